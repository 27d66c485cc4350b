"""Video: frames in, consistent stylised frames out (Ruder et al. 2016): sources, optical flow, anchors, encoding."""
