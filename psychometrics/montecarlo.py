"""Monte Carlo planning: draw many samples from a known population, fit each, summarise per N.

``pm.monte_carlo(population, ns=[100, 200], reps=500)`` draws ``reps`` samples of each size
from a :class:`psychometrics.generate.Population`, fits each with the package's own
estimators and reports, per N, what a study of that size can expect (simsem's and Mplus
Monte Carlo's summaries):

- ``cfa`` / ``cfa_wlsmv``: convergence rate; mean rows used (complete rows: listwise
  deletion of a long form loses many respondents to a few blanks each); rejection rate of the chi-square test of exact
  fit at ``alpha`` (the scaled test for WLSMV): the type I error when the population is the
  model, the power when it departs from it; mean RMSEA and CFI; relative bias of the
  standardized loadings against the population loadings on ``y*``; coverage and mean
  width of the Wald 95% intervals of the free (unstandardized) loadings, against their
  population values: ``λ_i / λ_marker`` on ``y*`` for WLSMV, the model fitted to the
  population's answers for ML (exact moments for continuous answers, else 100,000 clean
  respondents);
- ``alpha`` / ``omega`` per factor: mean, relative bias against the population value
  (a sample of 100,000 clean respondents), and for alpha the coverage and mean width of
  Feldt's 95% interval;
- ``icc`` per factor (needs ``population.cluster``): ICC(1) of the scale means across
  clusters (``pm.agreement``), mean, relative bias against the population value (a large
  clean sample), coverage and width of its F-based 95% interval;
- ``invariance`` (across the first group column): rejection rates of the metric and
  scalar likelihood-ratio tests, detection rate of each planted non-invariant item (power)
  and the rate at which other items are flagged (false positives);
- ``invariance_wlsmv``: the same for ordinal items (Wu & Estabrook 2016, scaled
  difference tests): rejection rates of equal loadings and of equal intercepts
  (``loadings_reject``, ``intercepts_reject``), detection and false-flag rates. Each
  replication also records every step's test (``invariance_wlsmv.p.<step>``,
  ``.chisq.<step>``, ``.df.<step>``: the configural model's scaled chi-square, then each
  step's Satorra 2000 difference with the previous row); with ``partial=[]`` nothing is
  released, so these are the plain chain's tests (their type I error when the population
  is invariant: ``bench/bench_ordinal_typei.py``).

Every replication has its own random stream, ``SeedSequence(seed, spawn_key=(j, r))`` for
size ``j`` and replication ``r``: the numbers do not depend on how replications are split
in chunks nor where they run (one process, a pool of processes, a Dask cluster).
A failed fit (a coded error, e.g. a constant item in a small sample) counts as not
converged. No files are read or written here.

Speed: the ML CFA, the analysis every study runs, is built once per study
(:func:`prepare`: parameter table, start values at the population's values as Mplus
Monte Carlo does) and fitted on arrays (:mod:`psychometrics.engine.numbers`): no DataFrame
and no labelled result per replication. Its estimates are ``pm.cfa``'s to about 1e-10;
from the population's values a few more small, messy samples converge than from
``pm.cfa``'s own start values (a sample that does not converge from them is started
again from ``pm.cfa``'s, and then gives what ``pm.cfa`` gives).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics import generate, reliability
from psychometrics.agreement import agreement
from psychometrics.cfa import cfa
from psychometrics.engine import numbers
from psychometrics.engine.core import LAMBDA, single_thread
from psychometrics.errors import PsychometricsError
from psychometrics.invariance import invariance
from psychometrics.reliability import alpha as cronbach_alpha
from psychometrics.reliability import omega

__all__ = ["ANALYSES", "MonteCarlo", "Plan", "monte_carlo", "prepare", "replicate", "run_chunk"]

ANALYSES = ("cfa", "cfa_wlsmv", "alpha", "omega", "invariance", "invariance_wlsmv", "icc")
TRUTH_N = 100_000


@dataclass(frozen=True)
class Plan:
    """What to run (sent to every worker)."""

    population: generate.Population
    ns: tuple[int, ...]
    reps: int
    analyses: tuple[str, ...]
    seed: int
    alpha: float = 0.05
    fiml: bool = False
    model: numbers.Prepared | None = None  # the ML CFA, built once (see prepare)
    partial: tuple[str, ...] | None = None  # the ordinal invariance fits' ``partial``

    @property
    def group(self) -> str | None:
        return next(iter(self.population.groups), None)

    def rng(self, j: int, r: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(j, r)))


@dataclass(frozen=True)
class MonteCarlo:
    """Result of :func:`monte_carlo`.

    ``summary``: {N: {analysis: measures}} (see the module docstring); ``table``: one row
    per N, one column per measure (``cfa.reject``, ``alpha.F1.coverage``...);
    ``replications``: one row per replication and quantity; ``truth``: the population
    values (loadings, alpha and omega per factor).
    """

    summary: dict
    table: pd.DataFrame
    replications: pd.DataFrame
    truth: dict
    plan: Plan


# ---------------------------------------------------------------- one replication


def _coverage(rec: dict, key: str, est, se, truth) -> None:
    """Share of the free loadings whose Wald 95% interval covers the population value,
    and the intervals' mean width."""
    half = stats.norm.ppf(0.975) * np.asarray(se, float)
    est = np.asarray(est, float)
    rec[f"{key}.loading_coverage"] = float(np.mean(np.abs(est - truth) <= half))
    rec[f"{key}.loading_ci_width"] = float(np.mean(2 * half))


def _free_loadings(model: numbers.Prepared) -> np.ndarray:
    st = model.structure
    return st.free[(st.mat == LAMBDA) & (st.free >= 0)]


def _fit_cfa_numbers(rec: dict, x: np.ndarray, plan: Plan) -> None:
    """The ML CFA of :func:`_fit_cfa` on the prepared model: numbers only, no DataFrame."""
    fit = numbers.fit_numbers(x, plan.model, func="cfa")
    rec["cfa.converged"] = float(fit.converged)
    rec["cfa.rows_used"] = float(fit.n)
    rec["cfa.reject"] = float(fit.pvalue < plan.alpha)
    rec["cfa.rmsea"] = fit.rmsea
    rec["cfa.cfi"] = fit.cfi
    ids = _free_loadings(plan.model)
    _coverage(rec, "cfa", fit.estimates[ids], fit.se[ids], plan.model.start[ids])
    row = 0
    for k, its in enumerate(plan.population.factors.values()):
        for item in its:
            rec[f"cfa.loading.{item}"] = float(fit.std_loadings[row, k])
            row += 1


def _fit_cfa(rec: dict, key: str, data, plan: Plan, estimator: str) -> None:
    pop = plan.population
    model = {f: list(its) for f, its in pop.factors.items()}
    missing = "fiml" if plan.fiml and estimator == "ML" else "listwise"
    fit = cfa(data, model, estimator=estimator, missing=missing, extras=False)
    rec[f"{key}.converged"] = float(fit.converged)
    rec[f"{key}.rows_used"] = float(fit.n)
    p = fit.fit["pvalue_scaled" if estimator == "WLSMV" else "pvalue"]
    rec[f"{key}.reject"] = float(p < plan.alpha)
    rec[f"{key}.rmsea"] = fit.fit["rmsea_scaled" if estimator == "WLSMV" else "rmsea"]
    rec[f"{key}.cfi"] = fit.fit["cfi_scaled" if estimator == "WLSMV" else "cfi"]
    free = fit.params[(fit.params["op"] == "=~") & (fit.params["free"] > 0)]
    truth = _loading_truth(plan, estimator)
    if truth is not None:
        _coverage(rec, key, free["est"], free["se"], truth)
    for f, its in pop.factors.items():
        for item in its:
            rec[f"{key}.loading.{item}"] = float(fit.loadings.loc[item, f])


def _loading_truth(plan: Plan, estimator: str) -> np.ndarray | None:
    """Population values of the free loadings (markers fixed at 1): on ``y*`` for WLSMV
    (the delta parameterization: ``λ_i / λ_marker``), the model fitted to the population's
    moments for ML (None without a prepared model)."""
    if estimator == "ML":
        return None if plan.model is None else plan.model.start[_free_loadings(plan.model)]
    lam = plan.population.loading_array()
    out = []
    for k, its in enumerate(plan.population.factors.values()):
        rows = [plan.population.items.index(i) for i in its]
        out += [lam[r, k] / lam[rows[0], k] for r in rows[1:]]
    return np.asarray(out)


def _fit_reliability(rec: dict, x: np.ndarray, data: Callable, plan: Plan, which: str) -> None:
    """Alpha (with Feldt's interval) or omega total per factor, from the arrays; ``pm.alpha``
    / ``pm.omega`` on the DataFrame (``data()``) only for their coded error."""
    pop = plan.population
    for f, its in pop.factors.items():
        if len(its) < 2:
            continue
        cols = x[:, [pop.items.index(i) for i in its]]
        if which == "alpha":
            got = reliability.alpha_numbers(cols)
            if got is None:
                a = cronbach_alpha(data()[list(its)])
                got = (a.alpha, a.ci_low, a.ci_high)
            rec[f"alpha.{f}.estimate"], rec[f"alpha.{f}.ci_low"], rec[f"alpha.{f}.ci_high"] = got
        else:
            got = reliability.omega_total_numbers(cols)
            rec[f"omega.{f}.estimate"] = got if got is not None else omega(data()[list(its)]).omega_total


def _fit_icc(rec: dict, data, plan: Plan) -> None:
    pop = plan.population
    icc = _icc_table(data, pop)
    for f in pop.factors:
        rec[f"icc.{f}.estimate"], rec[f"icc.{f}.ci_low"], rec[f"icc.{f}.ci_high"] = (
            icc.loc[f, "icc1"], icc.loc[f, "icc1_ci_low"], icc.loc[f, "icc1_ci_high"],
        )


def _icc_table(data, pop) -> pd.DataFrame:
    high = pop.categories or 1
    keys = {"scales": {f: list(its) for f, its in pop.factors.items()}}
    return agreement(data, keys, group=pop.cluster, low=1, high=high, n_sim=0, mixed=False).icc


def _fit_invariance(rec: dict, data, plan: Plan) -> None:
    pop = plan.population
    model = {f: list(its) for f, its in pop.factors.items()}
    inv = invariance(data, model, group=plan.group, alpha=plan.alpha, min_group_size=10,
                     missing="fiml" if plan.fiml else "listwise")
    rec["invariance.converged"] = float(all(f.converged for f in inv.fits.values()))
    rec["invariance.metric_reject"] = float(inv.table.loc["metric", "p_diff"] < plan.alpha)
    rec["invariance.scalar_reject"] = float(inv.table.loc["scalar", "p_diff"] < plan.alpha)
    for item in pop.items:
        rec[f"invariance.flag.{item}"] = float(item in inv.flagged)


def _fit_invariance_wlsmv(rec: dict, data, plan: Plan) -> None:
    pop = plan.population
    model = {f: list(its) for f, its in pop.factors.items()}
    inv = invariance(data, model, group=plan.group, alpha=plan.alpha, min_group_size=10,
                     estimator="WLSMV", partial=plan.partial)
    key = "invariance_wlsmv"
    rec[f"{key}.converged"] = float(all(f.converged for f in inv.fits.values()))
    rec[f"{key}.loadings_reject"] = float(inv.table.loc["loadings", "p_diff"] < plan.alpha)
    rec[f"{key}.intercepts_reject"] = float(inv.table.loc["intercepts", "p_diff"] < plan.alpha)
    for step in ("configural", "thresholds", "loadings", "intercepts"):
        row = inv.table.loc[step]
        test = (("pvalue_scaled", "chisq_scaled", "df") if step == "configural"
                else ("p_diff", "chisq_diff", "df_diff"))
        for name, col in zip(("p", "chisq", "df"), test, strict=True):
            rec[f"{key}.{name}.{step}"] = float(row[col])
    for item in pop.items:
        rec[f"{key}.flag.{item}"] = float(item in inv.flagged)


def replicate(plan: Plan, j: int, r: int) -> dict:
    """Draw replication ``r`` of size ``plan.ns[j]`` and fit every analysis of the plan.

    Returns a flat dict of floats; ``<analysis>.error`` holds the code of a failed fit.
    The ML CFA is fitted on ``plan.model`` when the plan has it (see :func:`prepare`),
    else by ``pm.cfa``; the other analyses get the sample as a DataFrame.
    """
    columns, x = generate.draw_arrays(plan.population, plan.ns[j], plan.rng(j, r))
    frame = None

    def data() -> pd.DataFrame:
        nonlocal frame
        if frame is None:
            frame = generate.as_frame(plan.population, columns, x)
        return frame

    rec: dict = {"n": plan.ns[j], "rep": r}
    steps = {
        "cfa": lambda: (_fit_cfa_numbers(rec, x, plan) if plan.model is not None
                        else _fit_cfa(rec, "cfa", data(), plan, "ML")),
        "cfa_wlsmv": lambda: _fit_cfa(rec, "cfa_wlsmv", data(), plan, "WLSMV"),
        "alpha": lambda: _fit_reliability(rec, x, data, plan, "alpha"),
        "omega": lambda: _fit_reliability(rec, x, data, plan, "omega"),
        "invariance": lambda: _fit_invariance(rec, data(), plan),
        "invariance_wlsmv": lambda: _fit_invariance_wlsmv(rec, data(), plan),
        "icc": lambda: _fit_icc(rec, data(), plan),
    }
    for name in plan.analyses:
        try:
            steps[name]()
        except (PsychometricsError, np.linalg.LinAlgError) as exc:
            rec[f"{name}.error"] = getattr(exc, "code", "linalg-error")
            rec[f"{name}.converged"] = 0.0
    return rec


def run_chunk(plan: Plan, tasks: Sequence[tuple[int, int]]) -> list[dict]:
    """Run the replications ``(j, r)`` of one chunk (what a worker does), BLAS on one
    thread (the matrices are small; a worker is one core)."""
    with single_thread():
        return [replicate(plan, j, r) for j, r in tasks]


def population_moments(plan: Plan) -> tuple[np.ndarray, np.ndarray]:
    """Covariance matrix and means of the answers of the population without careless
    respondents, planted shifts or blanks: exact for continuous answers (``ΛΦΛ' + Θ``),
    else of a sample of :data:`TRUTH_N` respondents (its own random stream)."""
    pop = plan.population
    if pop.categories is None:
        lam, phi = pop.loading_array(), pop.phi_matrix()
        return lam @ phi @ lam.T + np.diag(generate.uniqueness(lam, phi)), np.zeros(len(lam))
    clean = generate.Population(factors=pop.factors, loadings=pop.loadings, phi=pop.phi,
                                categories=pop.categories, shares=pop.shares)
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(len(plan.ns), 1)))
    _, x = generate.draw_arrays(clean, TRUTH_N, rng)
    return np.cov(x, rowvar=False, bias=True), x.mean(axis=0)


def prepare(plan: Plan) -> Plan:
    """The plan with its ML CFA built once (``plan.model``): parameter table and start
    values from the population's moments (a large clean sample, its own random stream),
    shipped to every worker with the plan. A model that cannot be built (not identified)
    is left to ``pm.cfa``, whose error each replication then records. The start values
    are also the population values of the loadings whose interval coverage is reported."""
    if "cfa" not in plan.analyses:
        return plan
    try:
        moments = population_moments(plan)
        model = numbers.prepare_model(plan.population.factors, moments,
                                      missing="fiml" if plan.fiml else "listwise")
    except (PsychometricsError, np.linalg.LinAlgError):
        return plan
    return dataclasses.replace(plan, model=model)


# ---------------------------------------------------------------- truth and summaries


def population_values(plan: Plan) -> dict:
    """Loadings of the model; alpha and omega of a large clean sample (own random stream)."""
    pop = plan.population
    lam = pop.loading_matrix()
    truth = {"loadings": {i: float(lam.loc[i].abs().max()) for i in pop.items}}
    wanted = {"alpha", "omega", "icc"} & set(plan.analyses)
    if wanted:
        clean = generate.Population(
            factors=pop.factors, loadings=pop.loadings, phi=pop.phi,
            categories=pop.categories, shares=pop.shares,
            cluster=pop.cluster, cluster_size=pop.cluster_size, icc=pop.icc,
        )
        rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(len(plan.ns), 0)))
        big = generate.draw(clean, TRUTH_N, rng)
        for f, its in pop.factors.items():
            if len(its) >= 2:
                if "alpha" in wanted:
                    truth[f"alpha.{f}"] = cronbach_alpha(big[list(its)]).alpha
                if "omega" in wanted:
                    truth[f"omega.{f}"] = omega(big[list(its)]).omega_total
        if "icc" in wanted:
            icc = _icc_table(big, pop)
            truth.update({f"icc.{f}": float(icc.loc[f, "icc1"]) for f in pop.factors})
    return truth


def _mean(frame: pd.DataFrame, col: str) -> float:
    return float(frame[col].mean()) if col in frame else math.nan


def _summarise_n(frame: pd.DataFrame, plan: Plan, truth: dict) -> dict:
    out: dict = {"reps": len(frame)}
    pop = plan.population
    for key in ("cfa", "cfa_wlsmv"):
        if key not in plan.analyses:
            continue
        ok = frame[frame.get(f"{key}.converged", 0) == 1]
        bias = [
            (ok[f"{key}.loading.{i}"].mean() - truth["loadings"][i]) / truth["loadings"][i]
            for i in pop.items if f"{key}.loading.{i}" in ok
        ]
        out[key] = {
            "converged": _mean(frame, f"{key}.converged"),
            "rows_used": _mean(frame, f"{key}.rows_used"),
            "reject": _mean(ok, f"{key}.reject"),
            "rmsea": _mean(ok, f"{key}.rmsea"),
            "cfi": _mean(ok, f"{key}.cfi"),
            "loading_rel_bias": float(np.mean(bias)) if bias else math.nan,
            "loading_coverage": _mean(ok, f"{key}.loading_coverage"),
            "loading_ci_width": _mean(ok, f"{key}.loading_ci_width"),
        }
    for key in ("alpha", "omega", "icc"):
        if key not in plan.analyses:
            continue
        out[key] = {}
        for f in pop.factors:
            col = f"{key}.{f}.estimate"
            if f"{key}.{f}" not in truth:
                continue
            est, true = frame[col] if col in frame else pd.Series(dtype=float), truth[f"{key}.{f}"]
            row = {"mean": float(est.mean()), "truth": true, "rel_bias": float((est.mean() - true) / true)}
            if key in ("alpha", "icc") and col in frame:
                low, high = frame[f"{key}.{f}.ci_low"], frame[f"{key}.{f}.ci_high"]
                row["coverage"] = float(((low <= true) & (true <= high))[est.notna()].mean())
                row["width"] = float((high - low).mean())
            out[key][f] = row
    planted = [e[0] for e in pop.non_invariant]
    others = [i for i in pop.items if i not in planted]
    tests = {"invariance": ("metric_reject", "scalar_reject"),
             "invariance_wlsmv": ("loadings_reject", "intercepts_reject")}
    for key, names in tests.items():
        if key not in plan.analyses:
            continue
        ok = frame[frame.get(f"{key}.converged", 0) == 1]
        out[key] = {
            "converged": _mean(frame, f"{key}.converged"),
            **{name: _mean(ok, f"{key}.{name}") for name in names},
            "detect": {i: _mean(ok, f"{key}.flag.{i}") for i in planted},
            "false_flag": float(np.mean([_mean(ok, f"{key}.flag.{i}") for i in others])) if others else math.nan,
        }
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    flat = {}
    for k, v in d.items():
        if isinstance(v, dict):
            flat.update(_flatten(v, f"{prefix}{k}."))
        else:
            flat[f"{prefix}{k}"] = v
    return flat


# ---------------------------------------------------------------- running the chunks


def _chunks(plan: Plan, size: int | None, workers: int) -> list[list[tuple[int, int]]]:
    """The replications in chunks of ``size`` (default: about 8 chunks per worker, so that
    a slow or lost worker delays little, and at most 50 replications)."""
    tasks = [(j, r) for j in range(len(plan.ns)) for r in range(plan.reps)]
    size = size or max(1, min(50, math.ceil(len(tasks) / (8 * workers))))
    return [tasks[i : i + size] for i in range(0, len(tasks), size)]


def _run_local(plan, chunks, processes, done: Callable) -> None:
    """The chunks in this process, or with ``processes > 1`` also in a pool of
    ``processes - 1`` spawned processes. Spawning and importing costs a second or two per
    process, so this process, already started, runs the replications one by one from the
    back while the pool starts (an empty chunk tells when it has); the pool then gets
    whole chunks from the front, one per process at a time, until the two ends meet. A
    small study is over before the pool has started; a large one keeps every process busy."""
    if processes == 1 or len(chunks) == 1:
        for chunk in chunks:
            done(run_chunk(plan, chunk))
        return
    import concurrent.futures as cf
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    pool = cf.ProcessPoolExecutor(max_workers=processes - 1, mp_context=ctx)
    started = pool.submit(run_chunk, plan, [])
    pending: set = set()
    tasks = [task for chunk in chunks for task in chunk]
    front, back = 0, len(tasks)  # tasks[front:back] are not started yet
    try:
        while front < back or pending:
            while started.done() and front < back and len(pending) < processes - 1:
                size = min(len(chunks[0]), back - front)
                pending.add(pool.submit(run_chunk, plan, tasks[front : front + size]))
                front += size
            if front < back:
                back -= 1
                done(run_chunk(plan, [tasks[back]]))
            finished, pending = cf.wait(pending, timeout=0 if front < back else None,
                                        return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                done(fut.result())
    finally:  # a pool that never got a chunk is not waited for
        pool.shutdown(wait=front > 0, cancel_futures=True)


def _run_dask(plan, chunk_size, scheduler, retries: int, done: Callable) -> None:
    """Chunks as Dask tasks (sized on the cluster's worker threads), results handled as
    they complete; the plan is sent once to every worker. A task whose workers kept
    dying (``KilledWorker``, after Dask's own recomputations) is resubmitted up to
    ``retries`` times; any other error is raised (a bug does not loop forever)."""
    from distributed import Client, as_completed
    from distributed.scheduler import KilledWorker

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        chunks = _chunks(plan, chunk_size, max(1, sum(client.nthreads().values())))
        remote_plan = client.scatter(plan, broadcast=True)

        def submit(i: int):
            return client.submit(run_chunk, remote_plan, chunks[i], pure=False)

        index = {submit(i): i for i in range(len(chunks))}
        again = dict.fromkeys(range(len(chunks)), 0)
        queue = as_completed(list(index))
        for fut in queue:
            i = index.pop(fut)
            if fut.status == "error":
                exc = fut.exception()
                if not isinstance(exc, KilledWorker) or again[i] >= retries:
                    raise exc
                again[i] += 1
                new = submit(i)
                index[new] = i
                queue.add(new)
                continue
            done(fut.result())
            fut.release()
    finally:
        if client is not scheduler:
            client.close()


def monte_carlo(
    population: generate.Population,
    ns: Sequence[int],
    reps: int = 500,
    *,
    analyses: Sequence[str] = ("cfa", "alpha", "omega"),
    seed: int = 1,
    alpha: float = 0.05,
    fiml: bool = False,
    partial: Sequence[str] | None = None,
    processes: int | None = None,
    scheduler=None,
    chunk_size: int | None = None,
    retries: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> MonteCarlo:
    """Run the Monte Carlo study (see the module docstring).

    ``fiml``: fit the ML CFA and the invariance models by full-information ML on every
    row (``missing="fiml"``) instead of complete rows (WLSMV and alpha stay listwise).
    ``partial``: the ordinal invariance fits' ``partial`` (None: non-invariant items
    located and released, as the report does; ``[]``: nothing released, the plain chain).
    ``processes``: local processes (default: one per core; 1 runs in this process only,
    more adds ``processes - 1`` worker processes beside it). They are spawned (not
    forked): a script that calls this with ``processes > 1`` needs Python's
    ``if __name__ == "__main__":`` guard, as any multiprocessing script.
    ``scheduler``: a Dask scheduler address (``tcp://host:8786``) or a
    ``distributed.Client``; then the chunks run on that cluster, a chunk lost with its
    worker is recomputed (by Dask, then resubmitted up to ``retries`` times).
    ``progress(done, total)`` is called as replications come back.

    R: a loop of ``lavaan::simulateData`` + ``cfa`` (what simsem does), summarised by hand.
    """
    ns = tuple(int(n) for n in ns)
    if not ns or min(ns) < 10 or len(set(ns)) < len(ns) or reps < 1:
        raise PsychometricsError(
            "invalid-value", f"monte_carlo needs distinct sizes >= 10 and reps >= 1; got ns={ns}, reps={reps}."
        )
    unknown = sorted(set(analyses) - set(ANALYSES))
    if unknown:
        raise PsychometricsError("invalid-option", f"The 'analyses' parameter of monte_carlo must be among {ANALYSES}; got {unknown}.")
    population.check()
    if isinstance(partial, str):
        partial = [partial]
    plan = Plan(population, ns, int(reps), tuple(analyses), int(seed), float(alpha), bool(fiml),
                partial=None if partial is None else tuple(partial))
    if {"invariance", "invariance_wlsmv"} & set(plan.analyses) and plan.group is None:
        raise PsychometricsError("invalid-option", "The 'invariance' analysis needs a group column in population.groups.")
    if "icc" in plan.analyses and population.cluster is None:
        raise PsychometricsError("invalid-option", "The 'icc' analysis needs population.cluster (respondents in clusters).")
    plan = prepare(plan)
    total = len(ns) * plan.reps
    records: list[dict] = []

    def done(batch: list[dict]) -> None:
        records.extend(batch)
        if progress:
            progress(len(records), total)

    if scheduler is not None:
        _run_dask(plan, chunk_size, scheduler, retries, done)
    else:
        workers = processes or os.cpu_count() or 1
        _run_local(plan, _chunks(plan, chunk_size, workers), workers, done)
    records.sort(key=lambda rec: (ns.index(rec["n"]), rec["rep"]))  # completion order does not matter
    reps_frame = pd.DataFrame(records)
    truth = population_values(plan)
    summary = {n: _summarise_n(reps_frame[reps_frame["n"] == n], plan, truth) for n in ns}
    table = pd.DataFrame({n: _flatten(s) for n, s in summary.items()}).T
    table.index.name = "n"
    return MonteCarlo(summary, table, reps_frame, truth, plan)
