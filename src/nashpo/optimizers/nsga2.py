"""NSGA-II (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE TEC 6(2), 2002) from pymoo 0.6.2, driven by pymoo's ask/tell interface.

Encoding: one integer gene per hyperparameter, the choice index of ``finite.FiniteSpace`` (NB201:
the op of each edge). Operators suited to choice indices, all drawing from pymoo's seeded
``random_state``:

- sampling: uniform integers per gene (pymoo ``IntegerRandomSampling``);
- crossover: uniform crossover (pymoo ``UX``) with probability ``crossover_prob`` (Deb et al.: 0.9);
  genes are swapped, never blended, so a child only holds choices its parents had;
- mutation: each gene with probability ``mutation_rate`` (None: 1 / number of genes, as Deb et al.)
  moves as ``finite.mutate_digits`` moves one: a categorical to another choice uniformly, an
  ordinal to a neighbouring value;
- duplicates: an offspring equal to a population member, to another offspring or to any
  configuration asked before is rejected and pymoo mates again (up to its 100 tries), so no
  configuration is evaluated twice. If pymoo cannot find a single new offspring, the generation is
  filled with unseen random configurations (origin ``random``).

Survival is pymoo's NSGA-II (non-dominated rank, then crowding distance) on the raw objective
values (both are scale-free). The runner asks one configuration at a time: a generation (the
initial ``pop_size`` random members, then ``pop_size`` offspring per generation) is buffered and
told to pymoo once every member is evaluated. Single fidelity.

Parallel workers (``parallel = "async"``): pymoo's NSGA-II is generational; its parallel evaluation
(``Problem`` elementwise runners, pymoo 0.6.2 ``core/problem.py``) evaluates one generation's
offspring at a time and waits for all of them before survival (``Algorithm.tell``). Here a
generation's members go to free workers one by one, as there. A worker that would wait at the end of
a generation (every member handed out, some still running) gets one extra offspring instead: pymoo's
own mating (``algorithm.mating.do``: tournament on rank and crowding, crossover, mutation, no
revisits) on the current parents, or an unseen random configuration while the initial population is
still running (no parents yet). Extra offspring that have ended join the next survival with the
generation's members (NSGA-II's survival takes parents plus any number of offspring; the initial
survival keeps them all), so no result is lost and no worker idles. With one worker every generation
ends before the next ask, there are no extras, and the search is the generational one above.

``close()`` writes ``nsga2_generations.json`` into the workdir: per generation, the codes and
objective values of the population after survival.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2 as PymooNSGA2
from pymoo.core.duplicate import DuplicateElimination
from pymoo.core.evaluator import Evaluator
from pymoo.core.mutation import Mutation
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.core.termination import NoTermination
from pymoo.operators.crossover.ux import UX
from pymoo.operators.sampling.rnd import IntegerRandomSampling
from pymoo.problems.static import StaticProblem

from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace
from nashpo.optimizers.mo_common import check_int, check_objectives, check_probability, costs_of, write_json

GENERATIONS_FILE = "nsga2_generations.json"  # ``<name>_generations.json``: nsga3 writes its own


class FiniteMutation(Mutation):
    """Per-gene move on choice indices: categorical to another choice, ordinal to a neighbour."""

    def __init__(self, grid: FiniteSpace, rate: float | None) -> None:
        super().__init__(prob=1.0)
        self.grid = grid
        self.rate = 1.0 / len(grid.radices) if rate is None else float(rate)

    def _do(self, problem: Any, X: np.ndarray, *args: Any, random_state: np.random.Generator, **kwargs: Any) -> np.ndarray:
        X = np.rint(np.asarray(X, dtype=float)).astype(np.int64)
        n = len(X)
        for j, (k, kind) in enumerate(zip(self.grid.radices, self.grid.kinds, strict=True)):
            hit = random_state.random(n) < self.rate
            m = int(hit.sum())
            if k < 2 or m == 0:
                continue
            if kind == "categorical":
                X[hit, j] = (X[hit, j] + 1 + random_state.integers(k - 1, size=m)) % k
            else:
                step = np.where(random_state.random(m) < 0.5, 1, -1)
                moved = X[hit, j] + step
                X[hit, j] = np.where((moved >= 0) & (moved < k), moved, X[hit, j] - step)
        return X


def gene_key(x: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in np.rint(np.asarray(x, dtype=float)))


class NoRevisits(DuplicateElimination):
    """pymoo duplicate elimination that also rejects every configuration asked before (``seen``)."""

    def __init__(self, seen: set[tuple[int, ...]]) -> None:
        super().__init__()
        self.seen = seen

    def _do(self, pop: Population, other: Population | None, is_duplicate: np.ndarray) -> np.ndarray:
        known = set(self.seen)
        if other is not None:
            known.update(gene_key(x) for x in other.get("X"))
        for i, x in enumerate(pop.get("X")):
            key = gene_key(x)
            if key in known:
                is_duplicate[i] = True
            else:
                known.add(key)
        return is_duplicate


def genes_problem(grid: FiniteSpace, n_obj: int) -> Problem:
    return Problem(n_var=len(grid.radices), n_obj=n_obj, xl=np.zeros(len(grid.radices)), xu=np.array(grid.radices) - 1.0, vtype=int)


def random_unseen(grid: FiniteSpace, rng: np.random.Generator, seen: set[tuple[int, ...]], n: int) -> np.ndarray:
    """Up to ``n`` distinct uniformly drawn configurations (choice indices) outside ``seen``."""
    rows: list[tuple[int, ...]] = []
    taken = set(seen)
    for _ in range(100 * n):
        if len(rows) == n or len(taken) >= grid.n_configs:
            break
        key = tuple(grid.digits(int(rng.integers(grid.n_configs))))
        if key not in taken:
            taken.add(key)
            rows.append(key)
    return np.array(rows, dtype=np.int64).reshape(-1, len(grid.radices))


class NSGA2(Optimizer):
    name = "nsga2"
    parallel = "async"  # generational; extra offspring of the current parents instead of idling at a generation's end
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        # population and offspring per generation (pymoo's default is 100, too many for ~100-trial
        # budgets: 20 gives 4-5 generations)
        "pop_size": 20,
        "crossover_prob": 0.9,  # uniform crossover probability per mating (Deb et al. 2002: 0.9)
        "mutation_rate": None,  # per-gene mutation probability; None: 1 / number of genes (Deb et al.)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        check_int(cls.name, "pop_size", hp["pop_size"], 2)
        check_probability(cls.name, "crossover_prob", hp["crossover_prob"])
        check_probability(cls.name, "mutation_rate", hp["mutation_rate"], allow_none=True)
        return hp

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        self.grid = FiniteSpace(self.space)
        self.seen: set[tuple[int, ...]] = set()
        self.problem = genes_problem(self.grid, len(self.objectives))
        self.algorithm = self.pymoo_algorithm(
            sampling=IntegerRandomSampling(),
            crossover=UX(prob=self.hp["crossover_prob"]),
            mutation=FiniteMutation(self.grid, self.hp["mutation_rate"]),
            eliminate_duplicates=NoRevisits(self.seen),
        )
        self.algorithm.setup(self.problem, termination=NoTermination(), seed=self.seed, verbose=False)
        self.generation = -1  # 0: the random initial population
        self.batch: Population | None = None
        self.origins: list[str] = []
        self.values: dict[int, np.ndarray] = {}
        self.queue: list[int] = []
        self.extras: list[tuple[int, tuple[int, ...], np.ndarray]] = []  # (ask order, genes, costs) of ended extras
        self.n_extra = 0
        self.generations: list[dict[str, Any]] = []

    def pymoo_algorithm(self, **operators: Any) -> Any:
        """The pymoo algorithm with this adapter's operators (``nsga3`` swaps in NSGA-III)."""
        return PymooNSGA2(pop_size=self.hp["pop_size"], **operators)

    def _next_batch(self) -> None:
        pop = self.algorithm.ask()
        self.generation += 1
        if pop is None or len(pop) == 0:  # pymoo found no unseen offspring: unseen random ones instead
            self.algorithm.termination.force_termination = False
            X = random_unseen(self.grid, self.algorithm.random_state, self.seen, self.algorithm.pop_size)
            pop = Population.new("X", X)
            self.origins = ["random"] * len(pop)
        else:
            self.origins = ["random" if self.generation == 0 else "offspring"] * len(pop)
        if len(pop) == 0:
            raise RuntimeError(f"nsga2: every one of the {self.grid.n_configs} configurations has been asked")
        pop.set("X", np.rint(pop.get("X").astype(float)).astype(np.int64))
        self.seen.update(gene_key(x) for x in pop.get("X"))
        self.batch, self.values, self.queue = pop, {}, list(range(len(pop)))

    def _generation_open(self) -> bool:
        """Some member of the current generation is handed out but not told yet."""
        return self.batch is not None and len(self.values) < len(self.batch)

    def _extra(self) -> TrialInfo:
        """One offspring of the current parents (random while the initial population runs)."""
        origin = "offspring"
        X = np.empty((0, len(self.grid.radices)), dtype=np.int64)
        if self.algorithm.is_initialized:
            off = self.algorithm.mating.do(
                self.problem, self.algorithm.pop, 1, algorithm=self.algorithm, random_state=self.algorithm.random_state
            )
            X = np.rint(np.asarray(off.get("X"), dtype=float)).astype(np.int64)[:1] if len(off) else X
        if len(X) == 0:
            origin = "random"
            X = random_unseen(self.grid, self.algorithm.random_state, self.seen, 1)
        if len(X) == 0:
            raise RuntimeError(f"nsga2: every one of the {self.grid.n_configs} configurations has been asked")
        key = gene_key(X[0])
        self.seen.add(key)
        self.n_extra += 1
        return TrialInfo(self.grid.config(list(key)), self.max_fidelity, origin=origin, token=("extra", self.n_extra))

    def ask(self) -> TrialInfo:
        if not self.queue and self._generation_open():  # K > 1 only: a worker would wait for the generation
            return self._extra()
        if not self.queue:
            self._next_batch()
        i = self.queue.pop(0)
        assert self.batch is not None
        digits = [int(v) for v in self.batch[i].X]
        return TrialInfo(self.grid.config(digits), self.max_fidelity, origin=self.origins[i], token=(self.generation, i))

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        generation, i = info.token
        if generation == "extra":
            self.extras.append((i, gene_key(self.grid.digits_of(info.config)), costs_of(value, self.objectives)))
            return
        if generation != self.generation:
            raise RuntimeError(f"nsga2: told a member of generation {generation} during generation {self.generation}")
        self.values[i] = costs_of(value, self.objectives)
        assert self.batch is not None
        if len(self.values) == len(self.batch):
            F = np.array([self.values[j] for j in range(len(self.batch))])
            infills = self.batch
            if self.extras:  # extra offspring that ended during this generation join its survival
                self.extras.sort(key=lambda extra: extra[0])
                extra_X = np.array([genes for _, genes, _ in self.extras], dtype=np.int64)
                infills = Population.merge(self.batch, Population.new("X", extra_X))
                F = np.vstack([F, np.array([costs for _, _, costs in self.extras])])
                self.extras = []
            Evaluator().eval(StaticProblem(self.problem, F=F), infills)
            self.algorithm.tell(infills=infills)
            pop = self.algorithm.pop
            self.generations.append(
                {
                    "generation": self.generation,
                    "codes": [self.grid.code(gene_key(x)) for x in pop.get("X")],
                    "F": pop.get("F").tolist(),
                }
            )

    def close(self) -> None:
        write_json({"objectives": list(self.objectives), "generations": self.generations}, self.workdir / f"{self.name}_generations.json")
