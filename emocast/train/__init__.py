"""Training the paper's network (Sec. 3.4): stage 1 (image) and stage 2 (video) over the progressive phases
1-3, with emotion-aware sampling, on Accelerate; export to the release's ``net.pth`` layout.
Needs the ``neural`` extra (diffusers, transformers, accelerate, safetensors)."""
