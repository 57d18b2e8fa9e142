"""The Monte Carlo runner: population draws, same numbers wherever it runs, correctness."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import psychometrics as pm
from psychometrics import generate
from psychometrics.montecarlo import monte_carlo, replicate

POP = generate.Population(
    factors={"F1": ["a1", "a2", "a3", "a4"], "F2": ["b1", "b2", "b3"]},
    loadings=0.7,
    phi=0.3,
    groups={"lang": {"fr": 0.5, "en": 0.5}},
)


def test_draw_is_reproducible_and_shaped():
    a = generate.draw(POP, 50, np.random.default_rng(4))
    b = generate.draw(POP, 50, np.random.default_rng(4))
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["lang", "a1", "a2", "a3", "a4", "b1", "b2", "b3"]
    assert set(np.unique(a[POP.items])) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_draw_arrays_are_the_draw():
    pop = dataclasses.replace(POP, missing=0.1, careless=0.1, non_invariant=[("a2", "lang", "en", 1.0)])
    frame = generate.draw(pop, 80, np.random.default_rng(6))
    columns, x = generate.draw_arrays(pop, 80, np.random.default_rng(6))
    np.testing.assert_array_equal(frame[pop.items].to_numpy(), x)
    assert list(frame["lang"]) == list(columns["lang"])


def test_the_numbers_path_gives_the_cfa_numbers():
    # the runner fits the ML CFA on arrays from the population's values (engine.numbers);
    # a plan without that prepared model goes through pm.cfa: same numbers
    res = monte_carlo(POP, [80], reps=6, analyses=("cfa",), seed=3, processes=1)
    assert res.plan.model is not None
    plan = dataclasses.replace(res.plan, model=None)
    slow = pd.DataFrame([replicate(plan, 0, r) for r in range(6)])
    # without the prepared model there are no population values for interval coverage
    assert set(res.replications.columns) - set(slow.columns) == {"cfa.loading_coverage", "cfa.loading_ci_width"}
    pd.testing.assert_frame_equal(res.replications[slow.columns], slow, rtol=1e-8)


@pytest.mark.slow
def test_loading_intervals_cover_the_population_values():
    # 8 free loadings x 200 replications: coverage of the Wald 95% intervals near .95
    pop = generate.Population(factors={"F1": ["a1", "a2", "a3", "a4", "a5"], "F2": ["b1", "b2", "b3", "b4", "b5"]},
                              loadings=0.7, phi=0.3)
    res = monte_carlo(pop, [250], reps=200, analyses=("cfa", "cfa_wlsmv"), seed=21, processes=1)
    for key in ("cfa", "cfa_wlsmv"):
        row = res.summary[250][key]
        assert 0.92 <= row["loading_coverage"] <= 0.98, (key, row)
        assert 0 < row["loading_ci_width"] < 1
    cont = dataclasses.replace(pop, categories=None)
    res = monte_carlo(cont, [250], reps=200, analyses=("cfa",), seed=21, processes=1)
    assert 0.92 <= res.summary[250]["cfa"]["loading_coverage"] <= 0.98


def test_draw_departures():
    pop = generate.Population(
        factors={"F": ["x1", "x2", "x3", "x4"]},
        groups={"g": {"A": 0.5, "B": 0.5}},
        non_invariant=[("x1", "g", "B", 2.0)],
        careless=0.1,
        careless_kinds=("straightlining",),
        missing=0.1,
        cluster="org",
        cluster_size=20,
        icc=0.3,
    )
    d = generate.draw(pop, 2000, np.random.default_rng(1))
    items = d[pop.items]
    straight = items.nunique(axis=1).eq(1) & items.notna().all(axis=1)
    assert straight.sum() >= 200  # the careless ones (and a few honest straight answers)
    assert 0.07 < items.isna().to_numpy().mean() < 0.1  # 10% of the 90% not careless
    shift = d.loc[d.g == "B", "x1"].mean() - d.loc[d.g == "A", "x1"].mean()
    assert shift > 0.8
    assert d["org"].nunique() == 100
    icc = d.groupby("org")[pop.items].mean().mean(axis=1).var() / items.mean(axis=1).var()
    assert icc > 0.2


def test_draw_continuous():
    pop = generate.Population(factors={"F": ["x1", "x2", "x3"]}, loadings=0.8, categories=None)
    d = generate.draw(pop, 20_000, np.random.default_rng(2))
    r = d.corr().to_numpy()
    assert r[0, 1] == pytest.approx(0.64, abs=0.03)


@pytest.mark.parametrize(
    "bad",
    [
        {"loadings": 1.2},
        {"phi": [[1, 2], [2, 1]]},
        {"missing": 1.5},
        {"non_invariant": [("zz", "lang", "en", 1)]},
        {"shares": (0.5, 0.5)},
    ],
)
def test_invalid_population(bad):
    pop = generate.Population(**{**POP.__dict__, **bad})
    with pytest.raises(pm.PsychometricsError) as err:
        generate.draw(pop, 10, np.random.default_rng(0))
    assert err.value.code == "invalid-population"


def test_same_numbers_whatever_the_chunks_and_processes():
    kwargs = {"analyses": ("cfa", "alpha"), "seed": 11}
    one = monte_carlo(POP, [60, 90], reps=4, processes=1, chunk_size=1, **kwargs)
    big = monte_carlo(POP, [60, 90], reps=4, processes=1, chunk_size=8, **kwargs)
    two = monte_carlo(POP, [60, 90], reps=4, processes=2, chunk_size=3, **kwargs)
    pd.testing.assert_frame_equal(one.replications, big.replications)
    pd.testing.assert_frame_equal(one.replications, two.replications)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.table.loc[60, "reps"] == 4
    assert 0 <= one.table.loc[90, "cfa.reject"] <= 1
    other = monte_carlo(POP, [60, 90], reps=4, processes=1, analyses=("cfa", "alpha"), seed=12)
    assert not other.replications.equals(one.replications)


def test_dask_cluster_gives_the_local_numbers():
    distributed = pytest.importorskip("distributed")
    kwargs = {"analyses": ("cfa", "alpha", "omega"), "seed": 5, "chunk_size": 2}
    local = monte_carlo(POP, [60, 80], reps=5, processes=1, **kwargs)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        seen = []
        remote = monte_carlo(POP, [60, 80], reps=5, scheduler=cluster.scheduler_address,
                             progress=lambda done, total: seen.append((done, total)), **kwargs)
        on_client = monte_carlo(POP, [60, 80], reps=5, scheduler=client, **kwargs)
    pd.testing.assert_frame_equal(local.replications, remote.replications)
    pd.testing.assert_frame_equal(local.table, remote.table)
    pd.testing.assert_frame_equal(local.table, on_client.table)
    assert seen[-1] == (10, 10)


@pytest.mark.slow
def test_survives_the_loss_of_a_worker():
    distributed = pytest.importorskip("distributed")
    import os
    import signal

    kwargs = {"analyses": ("cfa",), "seed": 9, "chunk_size": 1}
    local = monte_carlo(POP, [60], reps=12, processes=1, **kwargs)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        killed = []

        def kill_one(done, total):
            if not killed:  # after the first chunk: kill a worker process (its nanny restarts it)
                worker = sorted(client.scheduler_info()["workers"])[0]
                pid = client.run(os.getpid, workers=[worker])[worker]
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

        remote = monte_carlo(POP, [60], reps=12, scheduler=client, progress=kill_one, **kwargs)
    assert killed
    pd.testing.assert_frame_equal(local.table, remote.table)


@pytest.mark.slow
def test_a_chunk_lost_with_its_worker_is_resubmitted(monkeypatch):
    # with allowed-failures = 0 the scheduler gives up on a chunk at the first worker it
    # kills (KilledWorker) instead of recomputing it itself: the runner submits it again
    distributed = pytest.importorskip("distributed")
    import os
    import signal

    import dask

    kwargs = {"analyses": ("cfa", "alpha", "omega"), "seed": 9, "chunk_size": 1}
    local = monte_carlo(POP, [60], reps=16, processes=1, **kwargs)
    submitted = []
    submit = distributed.Client.submit

    def counting(self, *args, **kw):
        submitted.append(args[1] if len(args) > 1 else None)
        return submit(self, *args, **kw)

    monkeypatch.setattr(distributed.Client, "submit", counting)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        killed = []

        def kill_a_busy_worker(done, total):
            busy = [w for w, tasks in client.processing().items() if tasks]
            if not killed and busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                killed.append(pid)
                os.kill(pid, signal.SIGKILL)

        remote = monte_carlo(POP, [60], reps=16, scheduler=client, progress=kill_a_busy_worker, **kwargs)
    assert killed
    assert len(submitted) > 16  # at least one chunk went out twice
    pd.testing.assert_frame_equal(local.table, remote.table)


def test_a_model_that_cannot_be_prepared_is_an_error_of_each_replication():
    # one factor of 2 items: more parameters than moments; as before the numbers path,
    # every replication records the code instead of the study failing
    pop = generate.Population(factors={"F": ["x1", "x2"]})
    res = monte_carlo(pop, [50], reps=3, analyses=("cfa",), processes=1)
    assert res.plan.model is None
    assert list(res.replications["cfa.error"]) == ["not-identified"] * 3
    assert res.summary[50]["cfa"]["converged"] == 0


def test_bad_arguments():
    with pytest.raises(pm.PsychometricsError, match="analyses"):
        monte_carlo(POP, [50], reps=2, analyses=("sem",))
    with pytest.raises(pm.PsychometricsError):
        monte_carlo(POP, [5], reps=2)
    with pytest.raises(pm.PsychometricsError, match="distinct"):
        monte_carlo(POP, [50, 50], reps=2)
    no_group = generate.Population(factors=POP.factors)
    with pytest.raises(pm.PsychometricsError, match="group"):
        monte_carlo(no_group, [50], reps=2, analyses=("invariance",))


def _band(reps: int, p: float = 0.05) -> tuple[float, float]:
    return stats.binom.ppf(0.025, reps, p) / reps, stats.binom.ppf(0.975, reps, p) / reps


@pytest.mark.slow
def test_type_one_error_under_a_true_model():
    # continuous answers, one group structure: the CFA model and the invariance models are true
    pop = generate.Population(
        factors={"F": ["x1", "x2", "x3", "x4"]}, loadings=0.7, categories=None,
        groups={"g": {"A": 0.5, "B": 0.5}},
    )
    res = monte_carlo(pop, [400], reps=1000, analyses=("cfa", "invariance"), seed=2026, processes=2)
    low, high = _band(1000)
    row = res.table.loc[400]
    assert row["cfa.converged"] == 1
    assert low <= row["cfa.reject"] <= high
    assert low <= row["invariance.metric_reject"] <= high
    assert low <= row["invariance.scalar_reject"] <= high


@pytest.mark.slow
def test_power_for_a_planted_item_grows_with_n():
    pop = generate.Population(
        factors={"F": ["x1", "x2", "x3", "x4"]}, loadings=0.7,
        groups={"g": {"A": 0.5, "B": 0.5}}, non_invariant=[("x2", "g", "B", 0.4)],
    )
    ns = [100, 200, 400]
    res = monte_carlo(pop, ns, reps=100, analyses=("invariance",), seed=7, processes=2)
    power = [res.table.loc[n, "invariance.detect.x2"] for n in ns]
    assert power == sorted(power) and power[-1] > power[0] + 0.3
    scalar = [res.table.loc[n, "invariance.scalar_reject"] for n in ns]
    assert scalar == sorted(scalar)


def test_icc_in_clusters():
    pop = generate.Population(factors={"F": ["x1", "x2", "x3"]}, cluster="org", cluster_size=10, icc=0.3)
    res = monte_carlo(pop, [200], reps=4, analyses=("icc", "alpha"), processes=1, seed=3)
    row = res.summary[200]["icc"]["F"]
    assert 0.1 < row["truth"] < 0.35  # item error dilutes the factor's .30 in the scale mean
    assert row["mean"] == pytest.approx(res.replications["icc.F.estimate"].mean())
    assert 0 <= row["coverage"] <= 1 and row["width"] > 0
    with pytest.raises(pm.PsychometricsError, match="cluster"):
        monte_carlo(POP, [50], reps=2, analyses=("icc",))


def test_cfa_without_extras_has_the_same_fit():
    data = generate.draw(POP, 200, np.random.default_rng(8))
    full = pm.cfa(data, POP.factors)
    light = pm.cfa(data, POP.factors, extras=False)
    assert light.fit == full.fit
    pd.testing.assert_frame_equal(light.loadings, full.loadings)
    assert light.modindices.empty and not full.modindices.empty


def test_fiml_uses_every_row():
    pop = generate.Population(factors={"F": ["x1", "x2", "x3", "x4"]}, missing=0.1)
    listwise = monte_carlo(pop, [100], reps=2, analyses=("cfa",), processes=1)
    fiml = monte_carlo(pop, [100], reps=2, analyses=("cfa",), processes=1, fiml=True)
    assert listwise.summary[100]["cfa"]["rows_used"] < 80
    assert fiml.summary[100]["cfa"]["rows_used"] == 100


def test_a_failing_chunk_is_raised_not_retried_forever(monkeypatch):
    distributed = pytest.importorskip("distributed")
    bad = generate.Population(factors={"F": ["x1", "x2", "x3"]})
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        import psychometrics.montecarlo as mc

        def broken(plan, tasks):
            raise RuntimeError("bug in a replication")

        monkeypatch.setattr(mc, "run_chunk", broken)
        with pytest.raises(RuntimeError, match="bug in a replication"):
            mc.monte_carlo(bad, [50], reps=2, analyses=("alpha",), scheduler=client)


def test_ordinal_invariance_steps_are_recorded_per_replication():
    # partial=[]: the plain chain (nothing released); each step's test is recorded
    res = monte_carlo(POP, [200], reps=2, analyses=("invariance_wlsmv",), partial=[], seed=5,
                      processes=1)
    assert res.plan.partial == ()
    one = monte_carlo(POP, [200], reps=1, analyses=("invariance_wlsmv",), partial="a2|t", seed=5,
                      processes=1)
    assert one.plan.partial == ("a2|t",)  # one name, as pm.invariance takes it
    assert "invariance_wlsmv.error" not in one.replications
    assert one.replications["invariance_wlsmv.df.thresholds"].iloc[0] < 16  # a2's released
    for r in range(2):
        data = generate.draw(POP, 200, res.plan.rng(0, r))
        table = pm.invariance(data, {"F1": ["a1", "a2", "a3", "a4"], "F2": ["b1", "b2", "b3"]},
                              "lang", estimator="WLSMV", partial=[], min_group_size=10).table
        rec = res.replications.iloc[r]
        assert rec["invariance_wlsmv.p.configural"] == table.loc["configural", "pvalue_scaled"]
        assert rec["invariance_wlsmv.chisq.configural"] == table.loc["configural", "chisq_scaled"]
        for step in ("thresholds", "loadings", "intercepts"):
            assert rec[f"invariance_wlsmv.p.{step}"] == table.loc[step, "p_diff"]
            assert rec[f"invariance_wlsmv.df.{step}"] == table.loc[step, "df_diff"]
