"""Start-up costs: what ``import zkphoto`` loads, MediaPipe imported without its drawing helpers,
and the batch fork server that preloads the checks. Each test runs a fresh interpreter, so
what is imported is measured, not assumed."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_zkphoto_is_lazy_and_every_public_name_resolves():
    r = _run("""
        import json, sys
        import zkphoto
        before = sorted(m for m in ("zkphoto.batch", "zkphoto.pipeline", "zkphoto.fix", "numpy", "cv2")
                        if m in sys.modules)
        names = {n: type(getattr(zkphoto, n)).__name__ for n in zkphoto.__all__}
        missing = sorted(set(zkphoto.__all__) - set(dir(zkphoto)))
        try:
            zkphoto.no_such_name
            err = None
        except AttributeError as e:
            err = str(e)
        print(json.dumps({"before": before, "names": names, "missing": missing, "err": err}))
    """)
    assert r["before"] == []  # nothing heavy until a name is used
    assert set(r["names"]) == {"BatchReport", "FixResult", "CheckResult", "Message", "Report", "Severity",
                               "Spec", "SpecError", "SpecRef", "Status", "check", "check_many", "fix",
                               "iter_items", "list_specs", "load_spec"}
    assert r["names"]["check"] == "function" and r["names"]["Report"] == "ModelMetaclass"
    assert r["missing"] == []
    assert "no_such_name" in r["err"]


def test_mediapipe_is_imported_without_its_unused_modules_which_still_work_when_used():
    r = _run("""
        import json, sys
        from zkphoto.measure.face import import_mediapipe, warm_up
        mp = import_mediapipe()
        warm_up()  # the three models load and run
        after_models = "matplotlib.pyplot" in sys.modules
        unused = sorted(m for m in ("urllib.request", "sounddevice", "mediapipe.tasks.python.audio",
                                    "mediapipe.tasks.python.vision", "mediapipe.python.solutions.pose_connections")
                        if m in sys.modules)
        from mediapipe.tasks.python import vision  # the Tasks API and the other solutions still load
        tasks = [vision.FaceLandmarker.__name__, mp.tasks.BaseOptions.__name__]
        sols = [mp.solutions.pose.Pose.__name__, mp.solutions.holistic.Holistic.__name__,
                mp.solutions.objectron.Objectron.__name__, len(mp.solutions.hands.HAND_CONNECTIONS)]
        spec = mp.solutions.drawing_utils.DrawingSpec(color=(1, 2, 3))  # first use loads it
        style = mp.solutions.drawing_styles.get_default_face_mesh_contours_style()
        import mediapipe.python.solutions.drawing_utils as du
        print(json.dumps({"after_models": after_models, "spec": list(spec.color), "style": len(style),
                          "same": du.DrawingSpec is mp.solutions.drawing_utils.DrawingSpec,
                          "pyplot_now": "matplotlib.pyplot" in sys.modules,
                          "again": import_mediapipe() is mp, "unused": unused, "tasks": tasks,
                          "sols": sols}))
    """)
    assert r["after_models"] is False
    assert r["unused"] == []  # nor the Tasks API, the other solutions and their downloader
    assert r["tasks"] == ["FaceLandmarker", "BaseOptions"]
    assert r["sols"][:3] == ["Pose", "Holistic", "Objectron"] and r["sols"][3] > 0
    assert r["spec"] == [1, 2, 3] and r["style"] > 0 and r["same"] is True
    assert r["pyplot_now"] is True  # loaded when (and only when) used
    assert r["again"] is True


def test_batch_workers_fork_from_a_server_that_preloaded_the_checks():
    r = _run("""
        import json, os, sys
        from zkphoto.procs import PRELOAD, pool_context, start_early
        start_early()
        ctx = pool_context()
        # what a worker has imported, asked through a builtin (picklable by reference)
        probe = ("(sorted(m for m in ('zkphoto.batch', 'zkphoto.checks.background', 'mediapipe', 'cv2', "
                 "'PIL.JpegImagePlugin') "
                 "if m in __import__('sys').modules), 'matplotlib.pyplot' in __import__('sys').modules)")
        with ctx.Pool(2) as pool:
            res = pool.map(eval, [probe] * 4)
        print(json.dumps({"method": ctx.get_start_method(), "preload": PRELOAD,
                          "mods": res[0][0], "pyplot": any(x[1] for x in res),
                          "parent_has_batch": "zkphoto.batch" in sys.modules}))
    """)
    assert r["method"] == "forkserver"
    assert "zkphoto._worker_preload" in r["preload"]
    # the workers have the checks and MediaPipe without importing them themselves …
    assert r["mods"] == ["PIL.JpegImagePlugin", "cv2", "mediapipe", "zkphoto.batch", "zkphoto.checks.background"]
    assert r["pyplot"] is False
    # … and the parent did not need to import them for that
    assert r["parent_has_batch"] is False


def test_worker_pool_housekeeping_sleeps_while_results_flow_and_still_replaces_a_dead_worker():
    """The standard pool's maintenance thread wakes whenever a result waits in the result pipe;
    ``procs.worker_pool``'s only on worker exits and state changes — and a worker that dies is
    still noticed and replaced."""
    r = _run("""
        import json, os, time
        import multiprocessing.pool as P
        from multiprocessing.connection import wait
        from zkphoto.procs import worker_pool, pool_context

        wakes = [0]
        def counting(sentinels, change_notifier, timeout=None):
            wait(sentinels, timeout=timeout)
            wakes[0] += 1
            while not change_notifier.empty():
                change_notifier.get()
        P.Pool._wait_for_updates = staticmethod(counting)

        def run(pool):
            wakes[0] = 0
            n = sum(1 for _ in pool.imap_unordered(abs, range(-3000, 0), chunksize=1))
            return n, wakes[0]

        with worker_pool(2) as pool:
            quiet = run(pool)
            pids = sorted(p.pid for p in pool._pool)
            pool.apply_async(os._exit, (3,))  # a worker dies in the middle of a task
            t = time.monotonic()
            while sorted(p.pid for p in pool._pool) == pids and time.monotonic() - t < 20:
                time.sleep(0.05)
            replaced = sorted(p.pid for p in pool._pool) != pids and len(pool._pool) == 2
            after = sorted(pool.map(abs, range(-50, 0)))
        with pool_context().Pool(2) as pool:
            stock = run(pool)
        print(json.dumps({"quiet": quiet, "stock": stock, "replaced": replaced, "after": after[:3]}))
    """)
    assert r["quiet"][0] == r["stock"][0] == 3000
    assert r["quiet"][1] <= 10, r  # (the standard pool: typically hundreds or thousands)
    assert r["stock"][1] >= 1  # (the count is real: the standard pool's thread is counted too)
    assert r["replaced"] is True and r["after"] == [1, 2, 3]
