"""Compile librosa's numba functions once, in one process, before notebooks are tested side by side.

librosa's numba functions cache their compiled code beside the package on first use. Notebooks tested in parallel
(and the pipeline test's own subprocess) then write and read the same cache files at once in a fresh venv, and a
half-written cache crashed a process with SIGSEGV. Run this first: `python .ci/warm_numba.py && OMP_NUM_THREADS=1
nbdev_test --do_print --timing` (what .ci/run and .github/workflows/test.yaml run).
"""
from dataclasses import replace
from emogen.preprocessing import standardise, feature_spec, audio_to_features, features_to_audio
from emogen.corpora import synthesize_utterance
from emogen.exploration import acoustic_profile

spec = replace(feature_spec('smoke'), mean=-30.0, std=17.0)
w = standardise(synthesize_utterance('anger'), 16000, spec)
acoustic_profile(w, spec.sr)
features_to_audio(audio_to_features(w, spec), spec)
print('numba caches warm')
