from django.urls import path

from brygga.governance import views

app_name = "governance"

urlpatterns = [
    path("", views.case_list, name="cases"),
    path("fardplan/", views.roadmap, name="roadmap"),
    path("arenden/nytt/", views.case_new, name="case_new"),
    path("arenden/<str:number>/", views.case_detail, name="case"),
    path("arenden/<str:number>/flytta/", views.case_move, name="case_move"),
    path("arenden/<str:number>/adressera/", views.case_assign, name="case_assign"),
    path("arenden/<str:number>/stall-bakom/", views.case_endorse, name="case_endorse"),
    path("arenden/<str:number>/remiss/", views.case_consult, name="case_consult"),
    path("arenden/<str:number>/remissvar/", views.case_respond, name="case_respond"),
    path("arenden/<str:number>/stang-remiss/", views.case_close_consultation, name="case_close_consultation"),
    path("arenden/<str:number>/beslut/", views.case_decide, name="case_decide"),
    path("forum/", views.forum_list, name="forums"),
    path("forum/nytt/", views.forum_new, name="forum_new"),
    path("forum/<slug:code>/", views.forum_detail, name="forum"),
    path("forum/<slug:code>/andra/", views.forum_edit, name="forum_edit"),
    path("moten/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("objekt/", views.object_list, name="objects"),
    path("planer/<int:plan_id>/", views.plan_detail, name="plan"),
    path("beslutslogg/", views.decision_log, name="decisions"),
    path("driftinformation/", views.notices, name="notices"),
    path("driftinformation/atom.xml", views.notices_feed, name="notices_feed"),
    path("driftinformation/avsluta/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("rapport/", views.report_current, name="report_current"),
    path("rapport/<int:year>/<int:quarter>/", views.quarterly_report, name="report"),
    path("rapport/<int:year>/<int:quarter>/pdf/", views.quarterly_report_pdf, name="report_pdf"),
]
