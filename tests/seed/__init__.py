"""Code written for the original pydirectus 0.2, run and type-checked against this one."""
