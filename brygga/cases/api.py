from ninja import Router

router = Router(tags=["In- och utskrivning"])
