select to_regclass('audit.marts_state') is not null as marts_state_exists
