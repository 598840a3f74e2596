"""Recording: latency calibration (:mod:`.latency`) and takes recorded into a project
(:mod:`.takes`)."""
