"""Login throttling: tries counted per (username, address) and per address, in Redis.

Counters live in Redis so every replica sees the same numbers, and each check-and-count
is one Lua script, so parallel guesses cannot slip past a limit between the check and
the count. The policy:

- **per (user, address)**: an address gets ``max_per_user`` failed tries at a name per
  window; then that address is refused for that name (even with the right password)
  until its window closes.
- **per address**: ``max_per_address`` failed tries at any names per window.
- **per user, a backoff**: once a name has ``max_per_user`` failures in a window from
  anywhere, each further failure makes addresses that have failed for it wait 1 s, 2 s,
  4 s … (at most the window) before their next try. An address with no failures for the
  name is never held back, so failures from elsewhere cannot lock the right owner out.

A try is counted before the password is checked and given back when it succeeds, so at
most the limit of password checks run however many arrive at once.
"""

from __future__ import annotations

import dataclasses

from redis import Redis

from logagg.errors import LogaggError

KEY_PREFIX = "logagg:login-failures:"

# KEYS: (user, address) counter, address counter, the user's backoff marker.
# ARGV: max per (user, address), max per address, window in seconds.
# Returns 0 when the try may go ahead (and is counted), else the seconds to wait.
_BEGIN = """
local function wait_of(key)
  local ttl = redis.call('TTL', key)
  if ttl < 1 then return 1 end
  return ttl
end
local pair = tonumber(redis.call('GET', KEYS[1]) or '0')
if pair >= tonumber(ARGV[1]) then return wait_of(KEYS[1]) end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then
  return wait_of(KEYS[2])
end
if pair > 0 and redis.call('EXISTS', KEYS[3]) == 1 then return wait_of(KEYS[3]) end
for index = 1, 2 do
  if redis.call('INCR', KEYS[index]) == 1 then
    redis.call('EXPIRE', KEYS[index], ARGV[3])
  end
end
return 0
"""

# KEYS: (user, address) counter, address counter. The try was not a failure: give it back.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
if tonumber(redis.call('GET', KEYS[2]) or '0') > 0 then redis.call('DECR', KEYS[2]) end
return 0
"""

# KEYS: the user's failure counter, the user's backoff marker.
# ARGV: failures before the backoff starts, window in seconds.
_FAILED = """
local failures = redis.call('INCR', KEYS[1])
local window = tonumber(ARGV[2])
if failures == 1 then redis.call('EXPIRE', KEYS[1], window) end
local over = failures - tonumber(ARGV[1])
if over >= 0 then
  redis.call('SET', KEYS[2], 1, 'EX', math.floor(math.min(window, 2 ^ math.min(over, 30))))
end
return failures
"""


class LoginThrottled(LogaggError):
    """Too many failures; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after}s")
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Failures allowed per (username, address) and per address within a window.

    ``max_per_user`` is also how many failures a name takes from all addresses together
    before its backoff starts.
    """

    max_per_user: int
    max_per_address: int
    window_seconds: int


def _name(username: str) -> str:
    # Length-prefixed, so no name and address pair reads as another.
    name = username.lower()
    return f"{len(name)}:{name}"


def pair_key(username: str, address: str) -> str:
    """The counter of ``address``'s tries at ``username``."""
    return f"{KEY_PREFIX}pair:{_name(username)}:{address}"


def address_key(address: str) -> str:
    """The counter of ``address``'s tries at any name."""
    return f"{KEY_PREFIX}addr:{address}"


def user_key(username: str) -> str:
    """The counter of ``username``'s failures from every address."""
    return f"{KEY_PREFIX}user:{_name(username)}"


def backoff_key(username: str) -> str:
    """Present while addresses that failed for ``username`` must wait."""
    return f"{KEY_PREFIX}backoff:{_name(username)}"


class LoginThrottle:
    """Counts login tries and refuses those past the policy's limits."""

    def __init__(self, redis: Redis, policy: ThrottlePolicy) -> None:
        self._redis = redis
        self._policy = policy
        self._begin = redis.register_script(_BEGIN)
        self._succeeded = redis.register_script(_SUCCEEDED)
        self._failed = redis.register_script(_FAILED)

    def begin(self, username: str, address: str) -> None:
        """Count a try of ``username`` from ``address``, or raise :class:`LoginThrottled`."""
        policy = self._policy
        wait = self._begin(
            keys=[pair_key(username, address), address_key(address), backoff_key(username)],
            args=[policy.max_per_user, policy.max_per_address, policy.window_seconds],
        )
        if int(wait) > 0:
            raise LoginThrottled(int(wait))

    def record_failure(self, username: str) -> None:
        """The counted try failed: it stays counted, and feeds ``username``'s backoff."""
        self._failed(
            keys=[user_key(username), backoff_key(username)],
            args=[self._policy.max_per_user, self._policy.window_seconds],
        )

    def record_success(self, username: str, address: str) -> None:
        """The counted try succeeded: give it back, and forget the address's failures for
        the name. The name's failures from elsewhere stay: they may still be guessing."""
        self._succeeded(keys=[pair_key(username, address), address_key(address)])
