"""Looking at calls: the timeline picture of a call and the static HTML report of a batch."""
