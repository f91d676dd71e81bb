"""Running the project on one machine: the embedded warehouse, the local Airflow environment and stack, the DAG
runner, dbt from the command line, the demo and the calibration of the indicative bands."""
