from ninja import Router

router = Router(tags=["Dokument, bilagor och signering"])
