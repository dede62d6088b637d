"""LINAS, Lightweight Iterative NAS (Cummings, Sarah, Sridhar, Szankin, Munoz & Sundaresan,
"Accelerating Neural Architecture Exploration Across Modalities Using Genetic Algorithms",
GECCO 2022 companion, arXiv:2202.12934): NSGA-II whose inner generations are scored by predictors
trained online, validating on the benchmark only the candidates predicted to be best.

One LINAS iteration:

1. ``n_initial`` uniformly drawn configurations are validated first (origin ``random``).
2. One predictor per objective (``ridge``: scikit-learn ``Ridge``; ``svr``: ``SVR`` with an RBF
   kernel, each on the standardised objective) is fitted on one-hot features (one indicator per
   choice of each hyperparameter) of every validated configuration.
3. pymoo's NSGA-II (same operators as ``nsga2``: uniform integer sampling, uniform crossover,
   per-gene categorical/ordinal mutation) runs ``n_generations`` generations of ``pop_size``,
   every individual scored by the predictors only. It starts from the validated configurations
   that NSGA-II's own survival (rank, crowding) keeps best, filled up with random ones.
4. The final inner population's configurations not validated yet are the candidates. Those that no
   other candidate dominates by prediction are the predicted front; at most ``n_validate`` of them
   are validated (origin ``predicted_front``), the most crowded dropped first (pymoo's crowding
   distance on the predicted values). Their real values join the training data; back to 2.

If no candidate is left (the inner search converged on validated configurations), the iteration
validates ``n_validate`` unseen random configurations instead (origin ``random``). No configuration
is validated twice. Single fidelity; all randomness from one seeded numpy Generator.

Parallel workers (``parallel = "async"``): LINAS validates one iteration's candidates one after the
other; with K workers each free worker takes the next queued candidate, and when the queue is empty
a new iteration fits the predictors on the results in (pending configurations are never proposed
again). While fewer than ``n_initial`` results are in, a free worker with an empty queue validates
one more unseen random configuration (origin ``random``), so the first fit always has ``n_initial``
points. With one worker this is the sequential algorithm above.

Predictor cost: every iteration's fit and prediction wall seconds are kept; ``close()`` writes them,
with their medians, to ``linas_predictor.json`` in the workdir, together with each iteration's
candidates, their predicted values and the validated ones.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2 as PymooNSGA2
from pymoo.core.population import Population
from pymoo.core.problem import Problem
from pymoo.operators.crossover.ux import UX
from pymoo.operators.survival.rank_and_crowding.metrics import calc_crowding_distance
from pymoo.optimize import minimize
from sklearn.linear_model import Ridge
from sklearn.svm import SVR

from nashpo.errors import InputError
from nashpo.optimizers.base import Optimizer, TrialInfo, TrialValue
from nashpo.optimizers.finite import FiniteSpace
from nashpo.optimizers.mo_common import check_int, check_objectives, check_probability, costs_of, non_dominated, write_json
from nashpo.optimizers.nsga2 import FiniteMutation, gene_key, genes_problem, random_unseen

PREDICTORS = ("ridge", "svr")
PREDICTOR_FILE = "linas_predictor.json"


class PredictedProblem(Problem):
    """The inner NSGA-II's problem: objectives predicted from one-hot features; times its predictions."""

    def __init__(self, base: Problem, encode: Any, models: list[Any], scales: list[tuple[float, float]]) -> None:
        super().__init__(n_var=base.n_var, n_obj=base.n_obj, xl=base.xl, xu=base.xu, vtype=int)
        self.encode, self.models, self.scales = encode, models, scales
        self.seconds = 0.0
        self.n_predicted = 0

    def _evaluate(self, X: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        t = time.perf_counter()
        features = self.encode(np.rint(np.asarray(X, dtype=float)).astype(np.int64))
        out["F"] = np.column_stack([m.predict(features) * s + mu for m, (mu, s) in zip(self.models, self.scales, strict=True)])
        self.seconds += time.perf_counter() - t
        self.n_predicted += len(X)


class LINAS(Optimizer):
    name = "linas"
    parallel = "async"  # predictors refit on the results in whenever the candidate queue is empty
    multi_objective = True
    defaults: ClassVar[dict[str, Any]] = {
        "n_initial": 20,  # random configurations validated before the first predictor fit
        "n_validate": 10,  # predicted-front candidates validated per LINAS iteration
        "pop_size": 50,  # inner NSGA-II population (LINAS paper: 50)
        "n_generations": 20,  # inner NSGA-II generations per iteration, scored by the predictors
        "predictor": "ridge",  # ridge or svr (scikit-learn), one per objective, on one-hot features
        "crossover_prob": 0.9,  # inner NSGA-II uniform crossover probability (as nsga2)
        "mutation_rate": None,  # per-gene mutation probability; None: 1 / number of genes (as nsga2)
    }

    @classmethod
    def check_hyperparameters(cls, given: dict[str, Any]) -> dict[str, Any]:
        hp = super().check_hyperparameters(given)
        check_int(cls.name, "n_initial", hp["n_initial"], 2)
        for key in ("n_validate", "n_generations"):
            check_int(cls.name, key, hp[key], 1)
        check_int(cls.name, "pop_size", hp["pop_size"], 2)
        if hp["predictor"] not in PREDICTORS:
            raise InputError(f"{cls.name}.predictor", hp["predictor"], f"unknown; choose from {', '.join(PREDICTORS)}")
        check_probability(cls.name, "crossover_prob", hp["crossover_prob"])
        check_probability(cls.name, "mutation_rate", hp["mutation_rate"], allow_none=True)
        return hp

    def setup(self) -> None:
        check_objectives(self.name, self.objectives)
        self.grid = FiniteSpace(self.space)
        self.rng = np.random.default_rng(self.seed)
        self.problem = genes_problem(self.grid, len(self.objectives))
        self.offsets = np.concatenate([[0], np.cumsum(self.grid.radices)[:-1]])
        self.n_features = int(sum(self.grid.radices))
        self.seen: set[tuple[int, ...]] = set()  # asked (validated or queued)
        self.X: list[tuple[int, ...]] = []  # validated genes
        self.Y: list[np.ndarray] = []  # their real objective values
        self.queue: list[tuple[tuple[int, ...], str]] = []
        self.iterations: list[dict[str, Any]] = []
        self._enqueue(random_unseen(self.grid, self.rng, self.seen, self.hp["n_initial"]), "random")

    # ------------------------------------------------------------ encoding and predictors
    def one_hot(self, X: np.ndarray) -> np.ndarray:
        out = np.zeros((len(X), self.n_features))
        rows = np.repeat(np.arange(len(X)), X.shape[1])
        out[rows, (X + self.offsets).ravel()] = 1.0
        return out

    def _predictor(self) -> Any:
        return Ridge(alpha=1.0) if self.hp["predictor"] == "ridge" else SVR(kernel="rbf", C=1.0, epsilon=0.1)

    def _fit(self) -> tuple[list[Any], list[tuple[float, float]]]:
        features = self.one_hot(np.array(self.X))
        Y = np.array(self.Y)
        models, scales = [], []
        for j in range(Y.shape[1]):
            mu, sd = float(Y[:, j].mean()), float(Y[:, j].std())
            sd = sd if sd > 0 else 1.0
            models.append(self._predictor().fit(features, (Y[:, j] - mu) / sd))
            scales.append((mu, sd))
        return models, scales

    # ------------------------------------------------------------ one LINAS iteration
    def _iterate(self) -> None:
        t = time.perf_counter()
        models, scales = self._fit()
        fit_seconds = time.perf_counter() - t
        problem = PredictedProblem(self.problem, self.one_hot, models, scales)
        inner = PymooNSGA2(
            pop_size=self.hp["pop_size"],
            sampling=self._start_population(),
            crossover=UX(prob=self.hp["crossover_prob"]),
            mutation=FiniteMutation(self.grid, self.hp["mutation_rate"]),
            eliminate_duplicates=True,
        )
        seed = int(self.rng.integers(2**31 - 1))
        res = minimize(problem, inner, ("n_gen", self.hp["n_generations"]), seed=seed, verbose=False)
        X = np.rint(res.pop.get("X").astype(float)).astype(np.int64)
        F = res.pop.get("F")
        fresh = [i for i, x in enumerate(X) if gene_key(x) not in self.seen]
        candidates, predicted = X[fresh], F[fresh]
        chosen: list[int] = []
        if len(candidates):
            front = np.flatnonzero(non_dominated(predicted))
            if len(front) > self.hp["n_validate"]:
                crowding = calc_crowding_distance(predicted[front])
                front = front[np.argsort(-crowding, kind="stable")[: self.hp["n_validate"]]]
            chosen = sorted(int(i) for i in front)
            self._enqueue(candidates[chosen], "predicted_front")
        else:
            self._enqueue(random_unseen(self.grid, self.rng, self.seen, self.hp["n_validate"]), "random")
        self.iterations.append(
            {
                "iteration": len(self.iterations),
                "n_train": len(self.X),
                "fit_seconds": fit_seconds,
                "predict_seconds": problem.seconds,
                "fit_predict_seconds": fit_seconds + problem.seconds,
                "n_predicted": problem.n_predicted,
                "candidates": [self.grid.code(c) for c in candidates],
                "predicted": predicted.tolist(),
                "validated": [self.grid.code(candidates[i]) for i in chosen],
            }
        )

    def _start_population(self) -> np.ndarray:
        """Best validated configurations by NSGA-II's survival on their real values, then random ones."""
        from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

        X, Y = np.array(self.X), np.array(self.Y)
        n = self.hp["pop_size"]
        if len(X) > n:
            pop = Population.new("X", X, "F", Y)
            keep = RankAndCrowding().do(self.problem, pop, n_survive=n, random_state=self.rng)
            X = np.rint(keep.get("X").astype(float)).astype(np.int64)
        fill = random_unseen(self.grid, self.rng, self.seen | {gene_key(x) for x in X}, n - len(X))
        return np.vstack([X, fill]) if len(fill) else X

    def _enqueue(self, X: np.ndarray, origin: str) -> None:
        if len(X) == 0:
            raise RuntimeError(f"linas: every one of the {self.grid.n_configs} configurations has been asked")
        for x in X:
            key = gene_key(x)
            self.seen.add(key)
            self.queue.append((key, origin))

    # ------------------------------------------------------------ ask/tell
    def ask(self) -> TrialInfo:
        if not self.queue and len(self.X) < self.hp["n_initial"]:  # first fit waits for n_initial results
            self._enqueue(random_unseen(self.grid, self.rng, self.seen, 1), "random")
        elif not self.queue:
            self._iterate()
        key, origin = self.queue.pop(0)
        return TrialInfo(self.grid.config(key), self.max_fidelity, origin=origin, token=key)

    def tell(self, info: TrialInfo, value: TrialValue) -> None:
        self.X.append(info.token)
        self.Y.append(costs_of(value, self.objectives))

    def close(self) -> None:
        costs = [it["fit_predict_seconds"] for it in self.iterations]
        per_generation = [it["predict_seconds"] / self.hp["n_generations"] for it in self.iterations]
        summary = {
            "predictor": self.hp["predictor"],
            "objectives": list(self.objectives),
            "n_iterations": len(self.iterations),
            "median_fit_predict_seconds": float(np.median(costs)) if costs else None,
            "median_fit_seconds": float(np.median([it["fit_seconds"] for it in self.iterations])) if costs else None,
            "median_predict_seconds_per_generation": float(np.median(per_generation)) if costs else None,
            "iterations": self.iterations,
        }
        write_json(summary, self.workdir / PREDICTOR_FILE)
