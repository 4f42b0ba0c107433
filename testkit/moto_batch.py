"""Test-side completions of moto 5.2.5, so that Step Functions → Batch runs for real on loopback.

1. moto's Step Functions interpreter (a port of LocalStack's) left `_normalise_parameters` and
   `_normalise_response` of service tasks as empty stubs, so `batch:submitJob.sync` hands boto3
   `JobName` where it wants `jobName` and fails with `'JobName'`. `_normalise_*` below map
   request and response through botocore's shapes, as LocalStack does, with moto's own helpers.
2. A `.sync` task also waits on a task-token callback endpoint, which moto keeps across Retry
   attempts after the first attempt interrupted it: every retried `.sync` task "times out" at
   once. `.sync` has no task token, so `_sync_without_callback` waits on the job alone.
3. moto's Batch without Docker marks a job SUCCEEDED the moment it is submitted. `BatchRunner`
   instead runs the job as its container would: `python main.py` with the job's command, exactly
   the job definition's and the overrides' environment, and marks the job by the exit code.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.session import get_session
from moto.batch_simple.models import BatchSimpleBackend
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (  # noqa: E501
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)

_BOTOCORE = get_session()
_CONTAINER_BASE_ENV = ("PATH", "HOME", "LANG")


def _operation(service: str, action: str) -> Any:
    model = _BOTOCORE.get_service_model(service)
    name = next(name for name in model.operation_names if xform_name(name) == action)
    return model.operation_model(name)


def _normalise_parameters(
    self: StateTaskService,
    parameters: dict,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    service = self._get_boto_service_name(boto_service_name)
    action = self._get_boto_service_action(service_action_name)
    self._to_boto_request(parameters, _operation(service, action).input_shape)


def _normalise_response(
    self: StateTaskService,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    service = self._get_boto_service_name(boto_service_name)
    action = self._get_boto_service_action(service_action_name)
    self._from_boto_response(response, _operation(service, action).output_shape)


_moto_eval_sync = StateTaskServiceCallback._eval_sync


def _sync_without_callback(self: StateTaskServiceCallback, *args: Any, **kwargs: Any) -> Any:
    if self.resource.condition == ResourceCondition.Sync:
        kwargs["callback_endpoint"] = None
    return _moto_eval_sync(self, *args, **kwargs)


def complete_moto_step_functions(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(StateTaskService, "_normalise_parameters", _normalise_parameters)
    patch.setattr(StateTaskService, "_normalise_response", _normalise_response)
    patch.setattr(StateTaskServiceCallback, "_eval_sync", _sync_without_callback)


@dataclass
class RanJob:
    name: str
    command: list[str]
    environment: dict[str, str]
    started: dt.datetime
    ended: dt.datetime | None = None
    exit_code: int | None = None
    output: str = ""


@dataclass
class BatchRunner:
    """Runs submitted Batch jobs as their container would (ENTRYPOINT python main.py)."""

    main: Path
    jobs: list[RanJob] = field(default_factory=list)
    _interruptions: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, patch: pytest.MonkeyPatch) -> None:
        runner = self

        def mark_job_as_finished(backend: Any, include_start_attempt: bool, job: Any) -> None:
            backend.backend._jobs[job.job_id] = job
            job.job_started_at = dt.datetime.now()
            job.log_stream_name = job._stream_name
            if include_start_attempt:
                job._start_attempt()
            threading.Thread(target=runner._run, args=(job,), daemon=True).start()

        patch.setattr(BatchSimpleBackend, "_mark_job_as_finished", mark_job_as_finished)

    def interrupt_next(self, count: int = 1) -> None:
        """The next `count` jobs die as if their host went away, before running anything."""
        with self._lock:
            self._interruptions += count

    def max_concurrent(self) -> int:
        moments = sorted(
            [(job.started, 1) for job in self.jobs] + [(job.ended, -1) for job in self.jobs]
        )
        running = peak = 0
        for _, change in moments:
            running += change
            peak = max(peak, running)
        return peak

    def _run(self, job: Any) -> None:
        definition = job.job_definition.container_properties or {}
        overrides = job.container_overrides or {}
        environment = {name: os.environ[name] for name in _CONTAINER_BASE_ENV if name in os.environ}
        for variable in [*definition.get("environment", []), *overrides.get("environment", [])]:
            environment[variable["name"]] = variable["value"]
        command = list(overrides.get("command") or definition.get("command") or [])
        ran = RanJob(job.job_name, command, environment, dt.datetime.now())
        with self._lock:
            self.jobs.append(ran)
            interrupted = self._interruptions > 0
            self._interruptions -= interrupted
        if interrupted:
            ran.exit_code, ran.ended = 137, dt.datetime.now()
            job.job_stopped_reason = "Host EC2 (instance i-0test) terminated."
            job._mark_stopped(success=False)
            return
        process = subprocess.run(
            [sys.executable, str(self.main), *command],
            env=environment,
            cwd=self.main.parent,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        ran.exit_code, ran.output, ran.ended = (
            process.returncode,
            process.stdout + process.stderr,
            dt.datetime.now(),
        )
        job.exit_code = process.returncode
        if process.returncode:
            job.job_stopped_reason = "Essential container in task exited"
        job._mark_stopped(success=process.returncode == 0)
