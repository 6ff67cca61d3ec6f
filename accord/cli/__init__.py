"""The ``accord`` command line: one click group, with each command family in its own module."""

from __future__ import annotations

from accord.cli.cert import CERT_COMMANDS
from accord.cli.checkpoint import CHECKPOINT_COMMANDS, migrate
from accord.cli.component import COMPONENT_COMMANDS
from accord.cli.data import DATA_COMMANDS
from accord.cli.demo import DEMO_COMMANDS
from accord.cli.deploy import DEPLOY_COMMANDS
from accord.cli.dsl import dsl
from accord.cli.flow import FLOW_COMMANDS, task_list, versions
from accord.cli.job import JOB_COMMANDS, task
from accord.cli.metrics import METRICS_COMMANDS
from accord.cli.model import MODEL_COMMANDS, model
from accord.cli.root import main
from accord.cli.services import SERVICE_COMMANDS, server
from accord.cli.serving import PUBLISH_COMMANDS, SERVING_COMMANDS
from accord.cli.standalone import STANDALONE_COMMANDS
from accord.cli.suite import SUITE_COMMANDS
from accord.cli.table import TABLE_COMMANDS

main.add_command(dsl)
for command in [*SERVICE_COMMANDS, *STANDALONE_COMMANDS, *JOB_COMMANDS, *COMPONENT_COMMANDS, *DEMO_COMMANDS]:
    main.add_command(command)
for command in [
    *DATA_COMMANDS,
    *TABLE_COMMANDS,
    *CERT_COMMANDS,
    *MODEL_COMMANDS,
    *SERVING_COMMANDS,
    *SUITE_COMMANDS,
    *FLOW_COMMANDS,
    *CHECKPOINT_COMMANDS,
    *METRICS_COMMANDS,
]:
    main.add_command(command)
for command in [*DEPLOY_COMMANDS, *PUBLISH_COMMANDS]:
    model.add_command(command)
task.add_command(task_list)
model.add_command(migrate)
server.add_command(versions)

__all__ = ["main"]
