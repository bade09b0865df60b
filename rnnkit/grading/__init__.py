"""The instructor's side: release, intake of submissions, autograde, reports (CLI: `rnnkit`)."""
