"""Submissions in: an LMS's download unpacked (lms); a submitted/ tree checked, staged (staging)."""
