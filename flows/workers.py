"""Worker processes that pay their start-up once, not once per task.

Prefect's process-pool task runner starts a worker process at a submission, and then, for every
task, rebuilds the flow's settings from their serialized form (pydantic-settings reading the
environment, tens of ms) and opens a new API client (a fresh TLS context loading the CA bundle,
about 50 ms, twice per task). Measured on 2 cores: about 0.1 s of CPU per task in the worker,
besides the ~2 s of imports per worker. :class:`WarmProcessPoolTaskRunner` keeps Prefect's runner
and its task engine, and:

- starts every worker at once (:meth:`~WarmProcessPoolTaskRunner.start_workers`), each running an
  ``initializer`` (imports, models) while the flow is still discovering its inputs;
- in each worker, keeps one API client (:class:`prefect.context.SyncClientContext`, which Prefect's
  ``get_client`` reuses while it is active) and hydrates a given serialized settings context once.

Everything else (retries, state reporting, events, logs) is Prefect's own code path
(``prefect.task_runners._run_task_in_subprocess``). Where this Prefect version lacks the hooks
used here, the runner behaves exactly as :class:`~prefect.task_runners.ProcessPoolTaskRunner`.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import prefect.task_runners as _prefect_runners
from prefect.task_runners import ProcessPoolTaskRunner

# What Prefect 3.8 submits to the pool; anything else: leave Prefect's path alone.
_SUBMIT_PARAMETERS = ["task", "task_run_id", "parameters", "wait_for", "dependencies", "context", "env"]


def _can_wrap() -> bool:
    method = getattr(ProcessPoolTaskRunner, "_resolve_futures_and_submit", None)
    if method is None or not callable(getattr(_prefect_runners, "_run_task_in_subprocess", None)):
        return False
    return list(inspect.signature(method).parameters)[1:] == _SUBMIT_PARAMETERS


CAN_WRAP = _can_wrap()


class WarmProcessPoolTaskRunner(ProcessPoolTaskRunner):
    """:class:`~prefect.task_runners.ProcessPoolTaskRunner` with start-up paid once per worker.

    ``initializer(*initargs)`` runs once in each worker process as it starts (Prefect's own
    hook); :meth:`start_workers` starts all of them at once.
    """

    def start_workers(self) -> int:
        """Start every worker process now (each runs the initializer); returns how many.

        Python's pool would otherwise start one worker per submission, so the second worker's
        imports would begin only when the first task is handed out.
        """
        executor = getattr(self, "_executor", None)
        if executor is None:
            return 0
        count = getattr(self, "_max_workers", 1)
        for _ in range(count):  # no worker is idle yet, so each submission starts one
            executor.submit(os.getpid)
        return count

    def _resolve_futures_and_submit(self, task, task_run_id, parameters, wait_for, dependencies, context, env):
        if not CAN_WRAP:
            return super()._resolve_futures_and_submit(task, task_run_id, parameters, wait_for, dependencies,
                                                       context, env)
        # Prefect 3.8's method, with the worker-side entry point swapped for _run_warm_task.
        from concurrent.futures import wait

        from prefect.utilities.callables import cloudpickle_wrapped_call
        from prefect.utilities.engine import resolve_inputs_sync

        wait_for_states = None
        if wait_for:
            wait_for_list = list(wait_for)
            wait(wait_for_list)
            wait_for_states = [future.state for future in wait_for_list]
        resolved = resolve_inputs_sync(parameters, return_data=True, max_depth=-1)
        wrapped_call = cloudpickle_wrapped_call(
            _run_warm_task, env=env, task=task, task_run_id=task_run_id, parameters=resolved,
            wait_for=wait_for_states, return_type="state", dependencies=dependencies, context=context)
        return self._executor.submit(wrapped_call)


# ---- inside a worker process -------------------------------------------------------------------

_settings_cache: list = []  # [(key, SettingsContext)]: the last hydrated settings of this process
_client_cache: list = []  # [(api url, entered SyncClientContext)]: this process's API client
_client_opened = [0]  # how many clients this process opened (tests read it)


def _settings_context(serialized: dict | None, env: dict | None):
    """A SettingsContext for ``serialized`` (None: keep the current one), built once per value."""
    if not serialized:
        return None
    from prefect.context import SettingsContext

    key = (serialized, env)
    if _settings_cache and _settings_cache[0][0] == key:
        return _settings_cache[0][1]
    context = SettingsContext(**serialized)
    _settings_cache[:] = [(key, context)]
    return context


def warm_client():
    """This process's API client for the current settings, opened once and kept open.

    While its :class:`~prefect.context.SyncClientContext` is active, Prefect's ``get_client``
    (hydrating a task's context, the task engine) returns it instead of building a new one.
    """
    from prefect.context import SyncClientContext
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if _client_cache and _client_cache[0][0] == url:
        return _client_cache[0][1].client
    if _client_cache:
        _client_cache.pop()[1].__exit__(None, None, None)
    context = SyncClientContext()
    context.__enter__()
    _client_cache.append((url, context))
    _client_opened[0] += 1
    return context.client


def _run_warm_task(*args: Any, env: dict | None = None, **kwargs: Any) -> Any:
    """Prefect's task entry point in a worker, with settings and client reused across tasks."""
    os.environ.update(env or {})
    context = dict(kwargs.pop("context", None) or {})
    settings = _settings_context(context.pop("settings_context", None), env)
    if settings is not None:
        settings.__enter__()
    try:
        warm_client()
        return _prefect_runners._run_task_in_subprocess(*args, env=None, context=context, **kwargs)
    finally:
        if settings is not None:
            settings.__exit__(None, None, None)


__all__ = ["CAN_WRAP", "WarmProcessPoolTaskRunner", "warm_client"]
