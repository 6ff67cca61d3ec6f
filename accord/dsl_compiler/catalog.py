"""Metadata for every module name a FATE 1.11 DSL v2 ``"module"`` field may use.

Roles come from the runner bindings of FATE v1.11.4 (federatedml components) and FATE-Flow v1.11.2
(Reader, Upload and the other flow components). FATE-Flow itself does not check input kinds per module,
so the input/output kinds below record what each module actually consumes or produces, widened to
everything FATE's own example DSLs use.
"""

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ROLES = ("guest", "host", "arbiter", "local")
DATA_SLOTS = ("data", "train_data", "validate_data", "test_data")


@dataclass(frozen=True)
class ModuleSpec:
    name: str
    aliases: frozenset[str]
    roles: frozenset[str]
    data_inputs: frozenset[str]
    model_input: bool
    isometric_model_input: bool
    cache_input: bool
    data_output: bool
    model_output: bool
    cache_output: bool


_GH = "guest host"
_GHA = "guest host arbiter"
# Trainers fit on train_data (optionally validate_data), predict on test_data + model, warm-start on
# train_data + model, and pass plain data through when need_run is false.
_TRAIN = "data train_data validate_data test_data model"
# Transformers fit on data, or transform data with an upstream model in predict jobs.
_TRANSFORM = "data model"
_DM = "data model"

# name, roles, inputs, outputs
_TABLE: tuple[tuple[str, str, str, str], ...] = (
    # FATE-Flow components
    ("Reader", _GH, "", "data"),
    ("ApiReader", _GH, "data", "data"),
    ("CacheLoader", _GH, "", "cache"),
    ("ModelLoader", _GHA, "", "model"),
    ("Writer", "guest host local", "data", ""),
    ("Upload", "local", "", ""),
    ("Download", "local", "", ""),
    ("ModelStore", "local", "", ""),
    ("ModelRestore", "local", "", ""),
    # data preparation
    ("DataTransform", _GH, _TRANSFORM, _DM),
    ("Intersection", _GH, "data cache", "data cache"),
    ("Union", _GH, "data", "data"),
    ("FederatedSample", _GH, "data", "data"),
    ("HeteroDataSplit", _GH, "data", "data"),
    ("HomoDataSplit", _GH, "data", "data"),
    ("ColumnExpand", _GH, _TRANSFORM, _DM),
    ("LabelTransform", _GH, _TRANSFORM, _DM),
    ("SampleWeight", _GH, _TRANSFORM, _DM),
    # feature engineering
    ("FeatureScale", _GH, _TRANSFORM, _DM),
    ("FeatureImputation", _GH, _TRANSFORM, _DM),
    ("OneHotEncoder", _GH, _TRANSFORM, _DM),
    ("HomoOneHotEncoder", _GHA, _TRANSFORM, _DM),
    ("HeteroFeatureBinning", _GH, _TRANSFORM, _DM),
    ("HomoFeatureBinning", _GHA, _TRANSFORM, _DM),
    # isometric_model carries the binning/statistics/SBT/PSI/Pearson model the filters rank features by.
    ("HeteroFeatureSelection", _GH, "data model isometric_model", _DM),
    # statistics: they export a model for reporting but never load one
    ("DataStatistics", _GH, "data", _DM),
    ("HeteroPearson", _GH, "data train_data", _DM),
    ("PSI", _GH, "train_data validate_data", _DM),
    # trainers
    ("HeteroLR", _GHA, _TRAIN, _DM),
    ("HeteroLinR", _GHA, _TRAIN, _DM),
    ("HeteroPoisson", _GHA, _TRAIN, _DM),
    ("HeteroSSHELR", _GH, _TRAIN, _DM),
    ("HeteroSSHELinR", _GH, _TRAIN, _DM),
    ("HomoLR", _GHA, _TRAIN, _DM),
    ("HeteroSecureBoost", _GH, _TRAIN, _DM),
    ("HeteroFastSecureBoost", _GH, _TRAIN, _DM),
    ("HomoSecureBoost", _GHA, _TRAIN, _DM),
    ("HeteroNN", _GH, _TRAIN, _DM),
    ("HomoNN", _GHA, _TRAIN, _DM),
    ("FTL", _GH, _TRAIN, _DM),
    ("HeteroKmeans", _GHA, _TRAIN, _DM),
    ("LocalBaseline", _GH, _TRAIN, _DM),
    # post-processing
    ("Evaluation", _GHA, "data", "data"),
    ("Scorecard", _GH, "data", "data"),
    ("PositiveUnlabeled", _GH, "data", "data"),
    # FATE 1.11.4 dropped the runners of these two, but its example DSLs still use them.
    ("SecureInformationRetrieval", _GH, "data", _DM),
    ("FeldmanVerifiableSum", _GH, "data", "data"),
    # self-contained test jobs driven by parameters only
    ("SecureAddExample", _GH, "", ""),
    ("SPDZTest", _GH, "", ""),
)

# FATE registers DataIO as a separate legacy component with DataTransform's roles and I/O; the
# lower-case "b" spelling is a real second name of HomoSecureBoost's ComponentMeta.
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "DataTransform": ("DataIO",),
    "HomoSecureBoost": ("HomoSecureboost",),
}

_INPUT_WORDS = frozenset({*DATA_SLOTS, "model", "isometric_model", "cache"})
_OUTPUT_WORDS = frozenset({"data", "model", "cache"})


def _words(text: str, allowed: frozenset[str], what: str) -> frozenset[str]:
    words = frozenset(text.split())
    if not words <= allowed:
        raise ValueError(f"unknown {what} {sorted(words - allowed)} in module catalog")
    return words


def make_spec(name: str, roles: str, inputs: str, outputs: str, aliases: tuple[str, ...] = ()) -> ModuleSpec:
    """A spec from space-separated words: roles, input kinds (data slots included), output kinds."""
    ins = _words(inputs, _INPUT_WORDS, "input kind")
    outs = _words(outputs, _OUTPUT_WORDS, "output kind")
    return ModuleSpec(
        name=name,
        aliases=frozenset(aliases),
        roles=_words(roles, frozenset(ROLES), "role"),
        data_inputs=ins & frozenset(DATA_SLOTS),
        model_input="model" in ins,
        isometric_model_input="isometric_model" in ins,
        cache_input="cache" in ins,
        data_output="data" in outs,
        model_output="model" in outs,
        cache_output="cache" in outs,
    )


MODULES: Mapping[str, ModuleSpec] = MappingProxyType(
    {row[0]: make_spec(*row, aliases=_ALIASES.get(row[0], ())) for row in _TABLE}
)

_BY_NAME: Mapping[str, ModuleSpec] = MappingProxyType(
    {name: spec for spec in MODULES.values() for name in (spec.name, *spec.aliases)}
)
_BY_FOLDED_NAME: Mapping[str, str] = MappingProxyType(
    {name.casefold(): spec.name for name, spec in _BY_NAME.items()}
)


def lookup(name: str, extra: Mapping[str, ModuleSpec] | None = None) -> ModuleSpec | None:
    """Resolve a canonical name or registered alias; FATE matches case-sensitively, so do we.

    ``extra`` holds modules that installed plug-ins add, by name; FATE's own names win.
    """
    spec = _BY_NAME.get(name)
    if spec is None and extra:
        spec = extra.get(name) or next((s for s in extra.values() if name in s.aliases), None)
    return spec


def suggest(name: str) -> list[str]:
    """Up to three canonical names close to ``name``, for "did you mean" messages."""
    # Ask for extra matches because an alias and its canonical name can both match.
    matches = difflib.get_close_matches(name.casefold(), list(_BY_FOLDED_NAME), n=6, cutoff=0.6)
    return list(dict.fromkeys(_BY_FOLDED_NAME[m] for m in matches))[:3]
