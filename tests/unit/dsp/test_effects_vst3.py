"""VST3 hosting: no plug-in ships with Debian, so the errors are what can be checked here."""

from __future__ import annotations

import pytest

from mixdown.core.errors import FormatError, ParameterError
from mixdown.dsp.effects.vst3 import VST3


def test_empty_path_says_how_to_set_it():
    with pytest.raises(ParameterError, match=r"vst3: path is empty; set path to a \.vst3"):
        VST3()


def test_missing_path_is_named(tmp_path):
    missing = tmp_path / "Nowhere.vst3"
    with pytest.raises(FormatError, match=r"Nowhere\.vst3: no such file") as err:
        VST3(path=str(missing))
    assert err.value.path == missing


def test_wrong_kind_of_file_is_named(tmp_path):
    f = tmp_path / "reverb.dll"
    f.write_bytes(b"MZ not a plug-in")
    with pytest.raises(FormatError, match=r"reverb\.dll: not a VST3 plug-in"):
        VST3(path=str(f))


def test_invalid_bundle_is_a_format_error_naming_it(tmp_path):
    bundle = tmp_path / "Broken.vst3"
    bundle.mkdir()
    (bundle / "junk.txt").write_text("not a plug-in")
    with pytest.raises(FormatError, match=r"Broken\.vst3: the plug-in could not be loaded") as e:
        VST3(path=str(bundle))
    assert e.value.path == bundle
