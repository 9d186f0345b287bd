"""EmoCAST neural engine (paper Sec. 3.2): the diffusion network as a second renderer."""
