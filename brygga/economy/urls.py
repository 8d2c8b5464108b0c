from django.urls import path

from brygga.economy import views

app_name = "economy"

urlpatterns = [
    path("", views.budget_list, name="budgets"),
    path("budget/<int:budget_id>/", views.budget_detail, name="budget"),
    path("budget/<int:budget_id>/fakturera/", views.create_invoices, name="create_invoices"),
    path("budget/<int:budget_id>/stang-period/", views.close_period, name="close_period"),
    path("budget/<int:budget_id>/fakturor/<int:month>/", views.invoices, name="invoices"),
    path("budget/<int:budget_id>/rad/", views.add_line, name="add_line"),
    path("budget/<int:budget_id>/besluta/", views.adopt, name="adopt"),
    path("budget/<int:budget_id>/folkmangd/", views.population_year, name="population_year"),
    path("rad/<int:line_id>/", views.line_edit, name="line"),
    path("rad/<int:line_id>/ta-bort/", views.line_delete, name="line_delete"),
    path("prislistor/", views.price_lists, name="price_lists"),
    path("prislistor/<int:price_list_id>/", views.price_list_detail, name="price_list"),
    path("andringar/", views.changes, name="changes"),
    path("nycklar/", views.keys, name="keys"),
    path("avstamning/", views.seed_check, name="seed_check"),
]
