"""``accord suite``: FATE-Test testsuites run unchanged against Accord sites."""

from accord.suite.runner import Outcome, SuiteRunner, TaskResult, UploadResult
from accord.suite.testsuite import SuiteTask, Testsuite, load_testsuite

__all__ = ["Outcome", "SuiteRunner", "SuiteTask", "TaskResult", "Testsuite", "UploadResult", "load_testsuite"]
