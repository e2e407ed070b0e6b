"""One vocabulary: the session's processor models (mixgraph.session.models, the discriminated
union on ``type``) and the DSP constructors (mixgraph.dsp.registry) hold the same kinds, and
each model's fields and defaults are the constructor's arguments and defaults, except the fields
listed below with the reason each is not a DSP parameter. The EQ's and the multiband's band
models are checked against what the DSP reads from a band the same way."""

from __future__ import annotations

import inspect
import json
import typing

import numpy as np
import pytest
from pydantic_core import PydanticUndefined

from mixgraph.dsp import registry
from mixgraph.dsp.biquad import band_sos
from mixgraph.dsp.dynamics import Compressor
from mixgraph.dsp.eq import DynamicBell
from mixgraph.graph.compile import step_params
from mixgraph.session import models

#: session fields that are not DSP parameters, and why
SESSION_ONLY = {
    "type": "the discriminator: it picks the DSP class (registry.processor_class)",
    "id": "names the step for automation targets and reports; it does not change the sound",
    "bypass": "the graph compiler leaves a bypassed step out of the chain; the DSP never sees it",
    "sidechain": "routing: the graph feeds the key signal; only its highpass_hz reaches the DSP, "
                 "as sidechain_highpass_hz",
}
#: DSP arguments that are not session fields, and why
DSP_ONLY = {
    "sidechain_highpass_hz": "the session's sidechain.highpass_hz (graph.compile.step_params); None "
                             "without a sidechain, so only kinds whose model has 'sidechain' take it",
}
#: the smallest valid step of each kind whose model has required fields
REQUIRED = {"multiband": {"crossovers_hz": [200.0], "bands": [{}, {}]}, "delay": {"time_ms": 100.0}}

MISSING = object()


def union_models() -> dict[str, type]:
    """type -> model class, read from the union itself (Annotated[A | B | ..., Field(discriminator)])."""
    union, _ = typing.get_args(models.Processor)
    out = {}
    for m in typing.get_args(union):
        (kind,) = typing.get_args(m.model_fields["type"].annotation)
        out[kind] = m
    return out


def session_fields(model) -> dict[str, object]:
    out = {}
    for name, f in model.model_fields.items():
        if f.default_factory is not None:
            out[name] = f.default_factory()
        else:
            out[name] = MISSING if f.default is PydanticUndefined else f.default
    return out


def dsp_params(kind: str) -> dict[str, object]:
    sig = inspect.signature(registry.processor_class(kind).__init__)
    return {n: MISSING if p.default is inspect.Parameter.empty else p.default
            for n, p in sig.parameters.items() if n != "self"}


def same_default(a, b) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return json.dumps(a) == json.dumps(b)  # as the plan JSON carries it: a tuple reads as a list


def test_both_sides_hold_the_same_kinds():
    kinds = union_models()
    # the registry's own table: kinds() also holds what a test registered at run time
    assert set(kinds) == set(registry._REGISTRY) == set(models.PROCESSOR_MODELS)
    assert all(models.PROCESSOR_MODELS[k] is m for k, m in kinds.items())


def test_the_exceptions_are_the_graph_compilers():
    assert set(SESSION_ONLY) == set(models.NON_DSP_FIELDS)  # what step_params leaves out


@pytest.mark.parametrize("kind", sorted(union_models()))
def test_model_fields_and_defaults_are_the_constructors(kind):
    model = union_models()[kind]
    ses = {n: d for n, d in session_fields(model).items() if n not in SESSION_ONLY}
    dsp = dsp_params(kind)
    if "sidechain" in model.model_fields:
        assert dsp.pop("sidechain_highpass_hz") is None
    assert not set(dsp) & set(DSP_ONLY), "a DSP-only argument on a kind the session gives no way to set"
    assert sorted(ses) == sorted(dsp)
    wrong = {n: (ses[n], dsp[n]) for n in ses if not same_default(ses[n], dsp[n])}
    assert wrong == {}, "(session default, DSP default)"


@pytest.mark.parametrize("kind", sorted(union_models()))
def test_the_compilers_parameters_build_the_processor(kind):
    step = union_models()[kind].model_validate({"type": kind, **REQUIRED.get(kind, {})}, strict=False)
    params = step_params(step)
    assert set(params) <= set(dsp_params(kind))
    registry.create(kind, **params).prepare(48000, 2, 64)


BAND_REQUIRED = {"freq_hz": 1000.0, "gain_db": 3.0}


STATIC_BANDS = [m for m in typing.get_args(typing.get_args(models.EqBand)[0]) if m is not models.DynamicBand]


@pytest.mark.parametrize("band_model", STATIC_BANDS)
def test_eq_band_defaults_are_the_dsps(band_model):
    # band_sos reads a band dict with its own defaults: a band with only the required fields
    # must give the filter of the same band with the session's defaults filled in
    for kind in typing.get_args(band_model.model_fields["type"].annotation):
        fields = session_fields(band_model)
        required = {n: BAND_REQUIRED[n] for n, d in fields.items() if d is MISSING and n != "type"}
        minimal = {"type": kind, **required}
        full = band_model.model_validate(minimal, strict=False).model_dump(mode="json")
        assert np.array_equal(band_sos(minimal, 48000), band_sos(full, 48000)), (kind, full)
        for name in set(fields) - {"type"} - set(required):  # and each optional field is read
            other = dict(full)
            other[name] = {"q": 2.5, "slope_db_oct": 24, "design": "cookbook"}[name]
            assert not np.array_equal(band_sos(other, 48000)[0], band_sos(full, 48000)[0]), (kind, name)


def test_dynamic_band_fields_and_defaults_are_the_dynamic_bells():
    # the EQ builds a DynamicBell from a dynamic band's fields (all but type)
    ses = {n: d for n, d in session_fields(models.DynamicBand).items() if n != "type"}
    sig = inspect.signature(DynamicBell.__init__)
    dsp = {n: MISSING if p.default is inspect.Parameter.empty else p.default
           for n, p in sig.parameters.items() if n != "self"}
    assert sorted(ses) == sorted(dsp)
    assert {n: (ses[n], dsp[n]) for n in ses if not same_default(ses[n], dsp[n])} == {}
    assert set(DynamicBell.automatable) == {
        n for n, f in models.DynamicBand.model_fields.items() if (f.json_schema_extra or {}).get("automatable")}


def test_multiband_band_fields_are_compressor_parameters():
    # a band's defaults are its own (a gentler 2:1), and the session always passes every field,
    # so only the names must be the compressor's
    fields = set(models.MultibandBand.model_fields)
    assert fields <= set(inspect.signature(Compressor.__init__).parameters)
    band = models.MultibandBand().model_dump(mode="json")
    assert set(band) == fields
