"""Links between accounts: shared devices, IPs, identities, addresses and money."""

from acctsec.link.model import AccountInfo, Edge, Hub, LinkContext, Member, SharedValue

__all__ = ["AccountInfo", "Edge", "Hub", "LinkContext", "Member", "SharedValue"]
