"""Task plug-ins: STS, bitext mining and retrieval families, one file per dataset, and bring-your-own files."""
