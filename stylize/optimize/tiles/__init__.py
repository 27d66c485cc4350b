"""One evaluation of a picture too large for memory, in overlapping tiles: the grid, the tiled
style statistics, the tiled evaluation."""
