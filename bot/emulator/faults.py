"""Seeded fault injection: a share of Bot API calls answered with 429, 500, a late answer, or a hang-up.

Deterministic under a seed: one random draw per eligible call, in call order. Bounded: at most `max_faults`
in all and never more than `max_consecutive` in a row for one method, so a client that retries gets
through. Scripted faults (`script`) come first and are exact. By default getUpdates is not eligible, so
PTB's polling cannot make a test's sequence depend on timing; name it in `methods` to include it.
This module decides; the HTTP layer acts.
"""

import random
from dataclasses import dataclass, field, replace
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMIT = "rate_limit"  # 429 Too Many Requests with parameters.retry_after; the call is not done
    SERVER_ERROR = "server_error"  # 500 Internal Server Error; the call is not done
    SLOW = "slow"  # the call is done, but the answer comes after `slow_seconds` (past the client's timeout)
    DROP = "drop"  # the connection is closed with no answer; the call is not done


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    seed: int = 0
    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    methods: frozenset[str] | None = None
    retry_after: int = 1
    slow_seconds: float = 10.0
    max_faults: int = 100
    max_consecutive: int = 3


@dataclass(frozen=True, kw_only=True)
class Fault:
    kind: FaultKind
    retry_after: int = 1
    slow_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class InjectedFault:
    sequence: int
    method: str
    kind: FaultKind
    scripted: bool


@dataclass(kw_only=True)
class _Scripted:
    fault: Fault
    methods: frozenset[str] | None
    remaining: int


def _eligible(method: str, methods: frozenset[str] | None) -> bool:
    if methods is None:
        return method != "getupdates"
    return method in methods


@dataclass(kw_only=True)
class FaultInjector:
    plan: FaultPlan = field(default_factory=FaultPlan)
    injected: list[InjectedFault] = field(default_factory=list)
    _scripted: list[_Scripted] = field(default_factory=list)
    _random: random.Random = field(default_factory=random.Random)
    _streaks: dict[str, int] = field(default_factory=dict)
    _calls: int = 0
    _random_faults: int = 0

    def __post_init__(self) -> None:
        self.configure(self.plan)

    def configure(self, plan: FaultPlan | None) -> None:
        """Replace the plan (None: no random faults) and restart its random sequence from the seed."""
        self.plan = plan or FaultPlan()
        lowered = None if self.plan.methods is None else frozenset(m.lower() for m in self.plan.methods)
        self.plan = replace(self.plan, methods=lowered)
        # Not for security: a reproducible sequence of test faults.
        self._random = random.Random(self.plan.seed)  # noqa: S311
        self._streaks.clear()
        self._random_faults = 0

    def script(
        self,
        kind: FaultKind,
        *,
        methods: frozenset[str] | set[str] | None = None,
        times: int = 1,
        retry_after: int = 1,
        slow_seconds: float = 10.0,
    ) -> None:
        """Make the next `times` eligible calls fail with `kind`, whatever the plan says."""
        lowered = None if methods is None else frozenset(m.lower() for m in methods)
        fault = Fault(kind=kind, retry_after=retry_after, slow_seconds=slow_seconds)
        self._scripted.append(_Scripted(fault=fault, methods=lowered, remaining=times))

    def clear(self) -> None:
        self._scripted.clear()
        self.configure(None)

    def decide(self, method: str) -> Fault | None:
        """The fault for this call of `method` (case-insensitive), or None to answer normally."""
        key = method.lower()
        self._calls += 1
        scripted = self._take_scripted(key)
        fault = scripted or self._draw(key)
        if fault is None:
            self._streaks[key] = 0
            return None
        if scripted is None:
            self._random_faults += 1
        self._streaks[key] = self._streaks.get(key, 0) + 1
        self.injected.append(
            InjectedFault(sequence=self._calls, method=method, kind=fault.kind, scripted=scripted is not None)
        )
        return fault

    def _take_scripted(self, key: str) -> Fault | None:
        for entry in self._scripted:
            if _eligible(key, entry.methods):
                entry.remaining -= 1
                if entry.remaining <= 0:
                    self._scripted.remove(entry)
                return entry.fault
        return None

    def _draw(self, key: str) -> Fault | None:
        plan = self.plan
        if plan.rate <= 0 or not plan.kinds or not _eligible(key, plan.methods):
            return None
        # Both draws happen on every eligible call, so the sequence depends only on the seed and call order.
        roll, pick = self._random.random(), self._random.randrange(len(plan.kinds))
        if roll >= plan.rate or self._random_faults >= plan.max_faults:
            return None
        if self._streaks.get(key, 0) >= plan.max_consecutive:
            return None
        return Fault(kind=plan.kinds[pick], retry_after=plan.retry_after, slow_seconds=plan.slow_seconds)
