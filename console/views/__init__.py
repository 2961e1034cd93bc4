"""What each page shows, assembled from storage and flows: plain values for the templates, no HTTP."""
