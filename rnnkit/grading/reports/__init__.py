"""What grading reports: the grade sheet and CSV, the class report, the students' feedback."""
