"""Evaluation metrics; import the submodule you need (nothing is imported here, so each stays cheap to load).

- ``fid``: ``FeatureStats`` (streaming float64 mean/covariance), ``frechet_distance``, ``fid_from_features``.
- ``inception_score``: ``inception_score(logits, splits=10)``.
- ``kid``: ``kid(real, fake)`` (unbiased polynomial-kernel MMD², seeded subsets).
- ``prdc``: ``prdc`` (Precision, Recall, Density, Coverage), ``precision_recall``, ``partial_recall``.
- ``msssim``: ``ms_ssim`` (defined down to 32×32), ``intra_class_ms_ssim`` (200 pairs per class, ×100).
- ``perceptual``: ``LPIPS`` / ``lpips_distance`` (the ``lpips`` package; backbone weights must be on disk).
- ``modes``: ``mode_statistics`` for 2-D toy mixtures (modes covered, high-quality samples within 4σ).
- ``capacity``: fitting capacity / classifier accuracy score. ``reconstruction``: CAE reconstruction error.
"""
