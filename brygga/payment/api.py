from ninja import Router

router = Router(tags=["Betalningsansvar och statistik"])
