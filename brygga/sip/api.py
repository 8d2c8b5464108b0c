from ninja import Router

router = Router(tags=["SIP, öppenvård och samtycke"])
