"""Compile a FATE DSL v2 and runtime conf v2 into an immutable :class:`JobPlan`.

Pure: nothing here imports settings, the database, Temporal or federation.
"""

from accord.dsl_compiler.compiler import CompileOptions, compile_files, compile_job, model_id_for
from accord.dsl_compiler.jobparams import JobDefaults
from accord.dsl_compiler.jsonio import parse_json_text, read_json_file
from accord.dsl_compiler.plan import (
    ComponentPlan,
    InputRef,
    JobParameters,
    JobPlan,
    PartyPlan,
    PartyResources,
    RunMode,
)
from accord.dsl_compiler.predict import generate_predict_dsl
from accord.dsl_compiler.schema import Dsl, RuntimeConf, parse_conf, parse_dsl

__all__ = [
    "CompileOptions",
    "ComponentPlan",
    "Dsl",
    "InputRef",
    "JobDefaults",
    "JobParameters",
    "JobPlan",
    "PartyPlan",
    "PartyResources",
    "RunMode",
    "RuntimeConf",
    "compile_files",
    "compile_job",
    "generate_predict_dsl",
    "model_id_for",
    "parse_conf",
    "parse_dsl",
    "parse_json_text",
    "read_json_file",
]
