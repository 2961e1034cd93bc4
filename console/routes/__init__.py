"""The console's routes, one module per area: login, escalations, patients, enrolment, administration."""
