"""The exercise engine (as learntools has `core/`): `exercise` (Exercise, Result, Note, Wrong),
`sandbox` (calling the learner's code: time limits, refusals), `compare` (reading and comparing
answers) and `cases` (functions tried on many cases, inputs for stability checks).
`lib.exercises` re-exports the public names; chapter modules import them from there."""
