"""What students receive: the course release and its views, install cell, bundle and examples."""
