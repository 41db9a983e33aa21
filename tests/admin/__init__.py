"""Console shell: error pages, icon, languages."""
