"""Running the study: ``fakenews repro``'s scheduler and the sharding of stages over machines."""
