"""Each role's dashboard: what is waiting for them, counted, with the first few and a link to each list."""
