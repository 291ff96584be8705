from django.shortcuts import render

from .selectors import product_list


def home(request):
    return render(request, "booking/home.html", {"products": product_list()})
