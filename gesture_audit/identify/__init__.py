"""Who is in the photo: face embeddings, the candidate gallery, matching and its evaluation."""
