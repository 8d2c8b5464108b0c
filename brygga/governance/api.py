from ninja import Router

router = Router(tags=["Förvaltning och styrning"])
