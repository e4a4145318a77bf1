"""On-site spot sessions: verifiable draws of officers, phone answers watched live, oral questioning."""
