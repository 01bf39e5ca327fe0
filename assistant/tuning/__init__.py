"""Hit testing and tuning: hit tests and their history, the regression set, evaluation runs
and the decision thresholds kept in the database (the admin console's /admin/hit-test,
/admin/regression and /admin/eval)."""
