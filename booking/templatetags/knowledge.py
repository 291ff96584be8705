"""``{% product_knowledge product %}`` (HTML) and ``{% product_knowledge_text product %}``
(plain-text e-mails): the one rendering of the product knowledge base (booking.knowledge)."""

from django import template

from booking.knowledge import product_knowledge as knowledge_of

register = template.Library()


@register.inclusion_tag("booking/includes/product_knowledge.html")
def product_knowledge(product, show_online_link=False):
    return {"knowledge": knowledge_of(product), "show_online_link": show_online_link}


@register.inclusion_tag("booking/includes/product_knowledge.txt")
def product_knowledge_text(product):
    return {"knowledge": knowledge_of(product)}
