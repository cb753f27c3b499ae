"""Which lines belong together: Java stack traces and Python tracebacks."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logagg.parser.multiline import group_line_by_line, group_lines

HEAD = "2025-04-18 10:12:01,123 ERROR [main] com.example.App: failed"


@pytest.mark.parametrize(
    ("lines", "groups"),
    [
        ([HEAD, "x"], [(0, 1), (1, 2)]),
        ([HEAD, "\tat a.B.c(B.java:1)", "    at a.B.d(B.java:2)", "x"], [(0, 3), (3, 4)]),
        ([HEAD, "java.lang.Error: e", "\tat a.B(B.java:1)"], [(0, 3)]),
        ([HEAD, "java.lang.Error: e", "not a frame"], [(0, 1), (1, 2), (2, 3)]),
        ([HEAD, "Caused by: x.Y: z", "\t... 3 more"], [(0, 3)]),
        ([HEAD, "\tat a(B.java:1)", "\tSuppressed: x.Y", "\t\tat b(C.java:2)"], [(0, 4)]),
        (
            [
                HEAD,
                "Traceback (most recent call last):",
                '  File "a.py", line 1, in <module>',
                "KeyError: 'k'",
                "",
                "During handling of the above exception, another exception occurred:",
                "",
                "Traceback (most recent call last):",
                '  File "a.py", line 3, in <module>',
                "ValueError: v",
                "next",
            ],
            [(0, 10), (10, 11)],
        ),
        (["\tat orphan(A.java:1)", HEAD], [(0, 1), (1, 2)]),
        ([{"msg": "object"}, "\tat a(B.java:1)"], [(0, 1), (1, 2)]),
        ([HEAD, "", "\tat a(B.java:1)"], [(0, 1), (1, 3)]),
        ([], []),
    ],
)
def test_groups(lines: list[Any], groups: list[tuple[int, int]]) -> None:
    assert group_lines(lines) == groups


def test_an_exception_line_alone_is_its_own_event() -> None:
    assert group_lines([HEAD, "java.lang.IllegalStateException: x"]) == [(0, 1), (1, 2)]


LINE_PIECES = st.sampled_from(
    [
        HEAD,
        "plain",
        "",
        "\tat a.B(B.java:1)",
        "    at a.B(B.java:2)",
        "\t... 4 more",
        "Caused by: x.Y: z",
        "java.lang.IllegalStateException: x",
        "x.YError",
        "Traceback (most recent call last):",
        '  File "a.py", line 1, in <module>',
        "ValueError: v",
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
        " ",
        ".",
        "\r",
        "\x0bat x",
    ]
)


@settings(max_examples=500)
@given(st.lists(LINE_PIECES, max_size=12))
def test_the_shortcut_groups_like_the_line_by_line_walk(lines: list[str]) -> None:
    assert group_lines(lines) == group_line_by_line(lines)
