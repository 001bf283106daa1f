"""The npm lock files that pin the Directus release pydirectus.testing installs."""
