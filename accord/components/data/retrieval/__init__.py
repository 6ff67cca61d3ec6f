"""SecureInformationRetrieval: the guest fetches the host's values for its ids (FATE 1.11's SIR)."""

from accord.components.data.retrieval.component import SecureInformationRetrieval

__all__ = ["SecureInformationRetrieval"]
