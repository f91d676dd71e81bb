select
    status,
    detail
from audit.marts_state
