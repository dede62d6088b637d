"""Ask/tell vocabulary shared by every optimizer adapter (after SMAC3's TrialInfo/TrialValue)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ConfigSpace import Configuration, ConfigurationSpace

from nashpo.errors import InputError


@dataclass(frozen=True)
class TrialInfo:
    """What to evaluate next: a configuration at a fidelity (epochs)."""

    config: Configuration
    epochs: int
    origin: str = "unknown"
    token: Any = field(default=None, compare=False)  # the optimizer's own handle for tell()
    # False: the trial cannot become the run's incumbent (bohb_nb201: hpbandster's incumbent is
    # the best result at its max budget, while every trial is queried at 12 epochs)
    incumbent_candidate: bool = True


@dataclass(frozen=True)
class TrialValue:
    """Outcome of one trial: the minimised objective and the simulated seconds it cost."""

    cost: float  # validation error in % (100 - validation accuracy); the first objective of a multi-objective run
    time: float  # simulated training seconds
    status: str = "SUCCESS"
    costs: tuple[float, ...] = ()  # multi-objective runs: every minimised objective, in the run's objective order
    start_time: float | None = None  # the trial's start on the runner's simulated clock (None: not given)


class Optimizer(ABC):
    """One small adapter per optimizer. The runner owns the loop and the clock.

    Subclasses declare ``defaults`` (their hyperparameters and default values); user values are
    type-checked against them. ``fidelities`` is the ascending list of epochs the data has; a
    single-fidelity optimizer gets one entry.

    Multi-objective adapters set ``multi_objective = True``; the runner gives them the names of the
    run's minimised objectives (``self.objectives``, at least two) and tells ``TrialValue.costs``.
    Single-objective adapters get ``("objective",)``. A multi-objective adapter limited to fewer
    objectives than the runner allows declares ``max_objectives``; larger sets are refused.

    ``parallel`` declares what the adapter does with K > 1 simulated workers (docs/parallel.md):
    ``async``: ``ask`` proposes while earlier trials are pending and ``tell`` takes results in the
    order they end; ``batch``: the runner asks K, waits for all K, tells them; ``none``: one worker
    only. The runner gives the adapter ``self.workers`` (K).
    """

    name: ClassVar[str]
    multi_fidelity: ClassVar[bool] = False
    multi_objective: ClassVar[bool] = False
    max_objectives: ClassVar[int | None] = None
    parallel: ClassVar[str] = "none"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        space: ConfigurationSpace,
        seed: int,
        fidelities: list[int],
        workdir: Path,
        *,
        objectives: tuple[str, ...] = ("objective",),
        workers: int = 1,
        **hyperparameters: Any,
    ) -> None:
        self.space = space
        self.seed = int(seed)
        self.fidelities = sorted(int(f) for f in fidelities)
        self.workdir = Path(workdir)
        self.objectives = tuple(objectives)
        self.workers = int(workers)
        self.hp = self.check_hyperparameters(hyperparameters)
        self.setup()

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with user values; unknown names and wrong types are errors."""
        out = dict(cls.defaults)
        for key, value in given.items():
            if key not in cls.defaults:
                raise InputError(f"{cls.name}.{key}", value, f"unknown hyperparameter; known: {', '.join(sorted(cls.defaults)) or 'none'}")
            default = cls.defaults[key]
            if default is not None and not _same_type(default, value):
                raise InputError(f"{cls.name}.{key}", value, f"must be of type {type(default).__name__}")
            out[key] = value
        return out

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Build the underlying optimizer (after ``self.hp`` is known)."""

    @abstractmethod
    def ask(self) -> TrialInfo: ...

    @abstractmethod
    def tell(self, info: TrialInfo, value: TrialValue) -> None: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Flush the optimizer's own output files."""

    @property
    def max_fidelity(self) -> int:
        return self.fidelities[-1]


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))
